package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// asset is a file a reference page loads (a script, a style sheet, an
// icon), embedded in the binary. Its ETag is a hash of the bytes served,
// so it changes exactly when a build embeds other bytes.
type asset struct {
	contentType string
	gzipped     bool
	// embedded is the file as embedded (gzip-compressed when gzipped) and
	// plain, for a gzipped file, the file decompressed, each with its ETag.
	// Each is made once, when first asked for, so that a server whose
	// pages nobody opens does not read or hash them.
	embedded, plain func() (representation, error)
}

// representation is the bytes of an asset as one kind of client gets them,
// and their ETag.
type representation struct {
	data []byte
	etag string
}

// newAsset is the file that read returns, named name (its extension gives
// the media type), gzip-compressed when gzipped.
func newAsset(name string, gzipped bool, read func() ([]byte, error)) *asset {
	contentType := mime.TypeByExtension(path.Ext(name))
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	a := &asset{contentType: contentType, gzipped: gzipped}
	a.embedded = sync.OnceValues(func() (representation, error) {
		data, err := read()
		if err != nil {
			return representation{}, fmt.Errorf("read %s: %w", name, err)
		}
		return representation{data, strongETag(data)}, nil
	})
	if gzipped {
		a.plain = sync.OnceValues(func() (representation, error) {
			embedded, err := a.embedded()
			if err != nil {
				return representation{}, err
			}
			zr, err := gzip.NewReader(bytes.NewReader(embedded.data))
			if err != nil {
				return representation{}, fmt.Errorf("decompress %s: %w", name, err)
			}
			data, err := io.ReadAll(zr)
			if err != nil {
				return representation{}, fmt.Errorf("decompress %s: %w", name, err)
			}
			return representation{data, strongETag(data)}, nil
		})
	}
	return a
}

// strongETag is a strong entity tag (RFC 9110, section 8.8.3) of data.
func strongETag(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// assets are the files served under one path prefix, by their name below
// it.
type assets map[string]*asset

// embeddedAssets are the files of fsys's top directory: a file named x.gz
// is x, gzip-compressed.
func embeddedAssets(fsys fs.FS) (assets, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	as := make(assets, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name, gzipped := strings.CutSuffix(e.Name(), ".gz")
		as[name] = newAsset(name, gzipped, func() ([]byte, error) { return fs.ReadFile(fsys, e.Name()) })
	}
	return as, nil
}

// serve answers GET <prefix>/* with the asset named by the rest of the
// path, or the API's JSON 404. An asset may be cached, but is revalidated
// on every use (Cache-Control: no-cache): a new build serves new bytes
// under the same name, and a revalidation that matches costs a 304 with no
// body. http.ServeContent answers If-None-Match (304) and Range.
func (as assets) serve(c echo.Context) error {
	a, ok := as[c.Param("*")]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	rep, err := a.embedded()
	if a.gzipped {
		h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
		if acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
			h.Set(echo.HeaderContentEncoding, "gzip")
		} else {
			rep, err = a.plain()
		}
	}
	if err != nil {
		return err
	}
	h.Set(echo.HeaderContentType, a.contentType)
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("ETag", rep.etag)
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(rep.data))
	return nil
}

// acceptsGzip reports whether an Accept-Encoding header value takes gzip:
// it names gzip with a q other than 0. Any other client gets the file
// decompressed, which every client takes.
func acceptsGzip(acceptEncoding string) bool {
	for _, coding := range strings.Split(acceptEncoding, ",") {
		name, params, _ := strings.Cut(coding, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, err := strconv.ParseFloat(v, 64)
			return err != nil || q > 0
		}
		return true
	}
	return false
}
