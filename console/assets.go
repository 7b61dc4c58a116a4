package console

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// files are the console's page, its script and its style sheet: plain
// files, embedded as they are (there is no build step).
//
//go:embed ui/index.html ui/console.js ui/console.css
var files embed.FS

// contentSecurityPolicy lets the page run only its own script and style
// and talk only to its own origin: no inline script (so no injected
// one), no frames around it, and no form submission, so even with the
// script off the login form cannot put the token in a URL.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// Assets serves the console's files under /ui/: /ui and /ui/ answer
// the page. They hold no data and need no token; the page asks for the
// token and sends it, from memory, with every /v1 request it makes.
func Assets() http.Handler {
	sub, err := fs.Sub(files, "ui")
	if err != nil {
		panic("console: the embedded files: " + err.Error()) // fixed at build time
	}
	static := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Revalidated at each load: a new binary's page replaces the old.
		h.Set("Cache-Control", "no-cache")
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/ui")
		name = strings.TrimPrefix(name, "/")
		if name == "" {
			name = "index.html"
		}
		if _, err := fs.Stat(sub, name); err != nil {
			http.Error(w, "no console file "+name, http.StatusNotFound)
			return
		}
		if name == "index.html" {
			// The bytes themselves: a file server would redirect a request
			// for index.html to its directory.
			page, _ := fs.ReadFile(sub, name) // Stat found it
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(page))
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		static.ServeHTTP(w, r2)
	})
}
