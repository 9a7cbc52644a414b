package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

// assetRef finds the scripts, style sheets and icons a page loads.
var assetRef = regexp.MustCompile(`(?:src|href)="([^"]+)"`)

// TestDocs_Pages checks both references: each page is served, not stored,
// and loads only assets of its own, which are all there.
func TestDocs_Pages(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{SecurityKey: "secret"})
	for _, tc := range []struct {
		page   string
		assets []string // at least these
	}{
		{"/docs", []string{"/docs/swagger-ui-bundle.js", "/docs/swagger-ui-standalone-preset.js", "/docs/swagger-ui.css", "/docs/favicon-32x32.png"}},
		{"/redoc", []string{"/redoc/redoc.standalone.js"}},
	} {
		t.Run(tc.page, func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, http.MethodGet, tc.page, "")
			if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, Content-Type %q; want a 200 page", res.Status, res.Header.Get("Content-Type"))
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" || res.Header.Get("ETag") != "" {
				t.Errorf("Cache-Control %q, ETag %q; want no-store and no ETag", got, res.Header.Get("ETag"))
			}
			page := string(res.Body)
			if !strings.Contains(page, `"/openapi.json"`) {
				t.Errorf("the page does not render /openapi.json")
			}
			if slash := a.Do(t, http.MethodGet, tc.page+"/", ""); slash.Status != http.StatusOK || string(slash.Body) != page {
				t.Errorf("GET %s/: status %d, want the same page", tc.page, slash.Status)
			}
			loaded := map[string]bool{}
			for _, m := range assetRef.FindAllStringSubmatch(page, -1) {
				ref := m[1]
				if strings.HasPrefix(ref, "data:") {
					continue // inline: no request
				}
				loaded[ref] = true
				if !strings.HasPrefix(ref, tc.page+"/") {
					t.Errorf("the page loads %s, not an asset of its own", ref)
					continue
				}
				if res := a.Do(t, http.MethodGet, ref, ""); res.Status != http.StatusOK || len(res.Body) == 0 {
					t.Errorf("GET %s: status %d, %d bytes; want the asset", ref, res.Status, len(res.Body))
				}
			}
			for _, want := range tc.assets {
				if !loaded[want] {
					t.Errorf("the page does not load %s", want)
				}
			}
		})
	}
}

// TestDocs_Assets checks how the pages' assets are cached: a strong ETag
// of the bytes served, revalidated on every use, and a 304 when it
// matches.
func TestDocs_Assets(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	strongETag := regexp.MustCompile(`^"[^"]+"$`)
	for _, tc := range []struct {
		path, contentType, contains string
		gzipped                     bool
	}{
		{"/docs/swagger-ui-bundle.js", "text/javascript", "SwaggerUIBundle", true},
		{"/docs/swagger-ui-standalone-preset.js", "text/javascript", "SwaggerUIStandalonePreset", true},
		{"/docs/swagger-ui.css", "text/css", ".swagger-ui", true},
		{"/docs/favicon-32x32.png", "image/png", "PNG", false},
		{"/redoc/redoc.standalone.js", "text/javascript", "Redoc", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, http.MethodGet, tc.path, "")
			if res.Status != http.StatusOK || !bytes.Contains(res.Body, []byte(tc.contains)) {
				t.Fatalf("status %d, %d bytes; want 200 with %q", res.Status, len(res.Body), tc.contains)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tc.contentType) || res.Header.Get("Content-Encoding") != "" {
				t.Errorf("Content-Type %q, Content-Encoding %q; want %s, not encoded", got, res.Header.Get("Content-Encoding"), tc.contentType)
			}
			etag := res.Header.Get("ETag")
			if !strongETag.MatchString(etag) {
				t.Errorf("ETag %q, want a strong one", etag)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", got)
			}

			for _, match := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
				again := a.Do(t, http.MethodGet, tc.path, "", "If-None-Match", match)
				if again.Status != http.StatusNotModified || len(again.Body) != 0 {
					t.Errorf("If-None-Match %s: status %d, %d bytes; want 304 with no body", match, again.Status, len(again.Body))
				}
				if again.Header.Get("ETag") != etag || again.Header.Get("Cache-Control") != "no-cache" {
					t.Errorf("If-None-Match %s: ETag %q, Cache-Control %q; want the asset's", match, again.Header.Get("ETag"), again.Header.Get("Cache-Control"))
				}
			}
			if other := a.Do(t, http.MethodGet, tc.path, "", "If-None-Match", `"other"`); other.Status != http.StatusOK || !bytes.Equal(other.Body, res.Body) {
				t.Errorf("another ETag: status %d, want 200 with the asset", other.Status)
			}

			zipped := a.Do(t, http.MethodGet, tc.path, "", "Accept-Encoding", "gzip, deflate, br")
			if !tc.gzipped {
				if zipped.Header.Get("Content-Encoding") != "" || zipped.Header.Get("ETag") != etag {
					t.Errorf("Accept-Encoding gzip: Content-Encoding %q, ETag %q; want the file as it is", zipped.Header.Get("Content-Encoding"), zipped.Header.Get("ETag"))
				}
				return
			}
			if zipped.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(zipped.Header.Get("Vary"), "Accept-Encoding") {
				t.Fatalf("Accept-Encoding gzip: Content-Encoding %q, Vary %q; want gzip, varying by Accept-Encoding", zipped.Header.Get("Content-Encoding"), zipped.Header.Get("Vary"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(zipped.Body))
			if err != nil {
				t.Fatal(err)
			}
			if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, res.Body) {
				t.Errorf("the gzipped asset does not decompress to the asset (%v)", err)
			}
			zipETag := zipped.Header.Get("ETag")
			if !strongETag.MatchString(zipETag) || zipETag == etag {
				t.Errorf("gzipped ETag %q, want a strong one of its own (plain %q)", zipETag, etag)
			}
			if again := a.Do(t, http.MethodGet, tc.path, "", "Accept-Encoding", "gzip", "If-None-Match", zipETag); again.Status != http.StatusNotModified {
				t.Errorf("gzipped, If-None-Match its ETag: status %d, want 304", again.Status)
			}
			if refused := a.Do(t, http.MethodGet, tc.path, "", "Accept-Encoding", "gzip;q=0"); refused.Header.Get("Content-Encoding") != "" {
				t.Errorf("Accept-Encoding gzip;q=0: Content-Encoding %q, want none", refused.Header.Get("Content-Encoding"))
			}
		})
	}
}

// TestDocs_NotFound checks that what is not a page or an asset under
// /docs/ and /redoc/ is answered as any unknown route is: JSON.
func TestDocs_NotFound(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	for _, path := range []string{"/docs/anything", "/docs/index.html", "/docs/swagger-ui.css.gz", "/docs/a/b", "/redoc/anything", "/redoc/index.html"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, http.MethodGet, path, "")
			res.WantError(t, http.StatusNotFound, "NOT_FOUND", "Not Found")
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
		})
	}
	a.Do(t, http.MethodPost, "/redoc", "").WantError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method Not Allowed")
	a.Do(t, http.MethodPost, "/redoc/redoc.standalone.js", "").WantError(t, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method Not Allowed")
}
