package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	redoc "github.com/mvrilo/go-redoc"
	swaggerui "github.com/swaggest/swgui/v5/static"
	"github.com/swaggest/swgui/v5emb"
)

// docsTitle is the title of both reference pages.
const docsTitle = "Agno AgentOS sessions API"

// redocPage is the Redoc reference: the read-only companion of /docs, one
// long page to read and search. Redoc renders GET /openapi.json with the
// script served beside it; nothing comes from another host. Its icon is
// empty, so that the browser does not ask for a /favicon.ico there is not.
const redocPage = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>` + docsTitle + ` - Redoc</title>
  <link rel="icon" href="data:,">
  <style>body { margin: 0; padding: 0; }</style>
</head>
<body>
  <div id="redoc"></div>
  <script src="/redoc/redoc.standalone.js"></script>
  <script>Redoc.init("/openapi.json", {}, document.getElementById("redoc"));</script>
</body>
</html>
`

// registerPages serves the two references of the document, each a page
// and its assets, all embedded in the binary so that they work offline and
// `make run` needs only Go: Swagger UI 5 at /docs, whose "Try it out"
// sends requests (page and assets from swaggest/swgui), and Redoc at
// /redoc (only its script comes from mvrilo/go-redoc, whose own handler is
// not used: it answers other methods with an empty 200). Pages are not
// stored (securityHeaders); assets are, with an ETag (assets.serve). A
// name under /docs/ or /redoc/ that is no asset is the API's JSON 404.
func registerPages(e *echo.Echo) error {
	e.GET("/docs", echo.WrapHandler(v5emb.New(docsTitle, "/openapi.json", "/docs")))
	docsAssets, err := embeddedAssets(swaggerui.FS)
	if err != nil {
		return fmt.Errorf("read the Swagger UI assets: %w", err)
	}
	e.GET("/docs/*", docsAssets.serve)

	e.GET("/redoc", func(c echo.Context) error {
		return c.HTML(http.StatusOK, redocPage)
	})
	redocAssets := assets{"redoc.standalone.js": newAsset("redoc.standalone.js", false, func() ([]byte, error) {
		return []byte(redoc.JavaScript), nil
	})}
	e.GET("/redoc/*", redocAssets.serve)
	return nil
}
