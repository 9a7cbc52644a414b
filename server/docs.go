package server

import (
	"fmt"

	"github.com/labstack/echo/v4"
	swaggerui "github.com/swaggest/swgui/v5/static"
	"github.com/swaggest/swgui/v5emb"
)

// docsTitle is the title of the reference page.
const docsTitle = "Agno AgentOS sessions API"

// registerPages serves the reference of the document, a page and its
// assets, all embedded in the binary so that it works offline and `make
// run` needs only Go: Swagger UI 5 at /docs, whose "Try it out" sends
// requests (page and assets from swaggest/swgui). The page is not stored
// (securityHeaders); assets are, with an ETag (assets.serve). A name under
// /docs/ that is no asset is the API's JSON 404.
func registerPages(e *echo.Echo) error {
	e.GET("/docs", echo.WrapHandler(v5emb.New(docsTitle, "/openapi.json", "/docs")))
	docsAssets, err := embeddedAssets(swaggerui.FS)
	if err != nil {
		return fmt.Errorf("read the Swagger UI assets: %w", err)
	}
	e.GET("/docs/*", docsAssets.serve)
	return nil
}
