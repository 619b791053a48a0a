package metrics

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// maxHotKeys bounds the n parameter of GET /api/hotkeys.
const maxHotKeys = 1000

// defaultHotKeys is the number of keys GET /api/hotkeys returns without n.
const defaultHotKeys = 20

// ServeStatus adds the status endpoints to the admin server:
//
//	/                 the status page, page (an HTML document)
//	/api/status       Status as JSON
//	/api/hotkeys      HotKeys of ?pool=NAME as JSON; ?n= keys, default 20
//
// m supplies the rates and events, src the pools and hot keys.
func (a *Admin) ServeStatus(m *Metrics, src StatusSource, page []byte) {
	a.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:")
		_, _ = w.Write(page)
	})
	a.mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, m.Status(src))
	})
	a.mux.HandleFunc("GET /api/hotkeys", func(w http.ResponseWriter, r *http.Request) {
		serveHotKeys(w, r, src)
	})
}

func serveHotKeys(w http.ResponseWriter, r *http.Request, src StatusSource) {
	q := r.URL.Query()
	pool := q.Get("pool")
	if pool == "" {
		writeText(w, http.StatusBadRequest, "pool: missing; ask /api/hotkeys?pool=NAME")
		return
	}
	n := defaultHotKeys
	if s := q.Get("n"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > maxHotKeys {
			writeText(w, http.StatusBadRequest, "n: want a number from 1 to "+strconv.Itoa(maxHotKeys))
			return
		}
		n = v
	}
	hk, err := src.HotKeys(pool, n)
	switch {
	case errors.Is(err, ErrNoPool):
		writeText(w, http.StatusNotFound, "no pool named "+strconv.Quote(pool))
	case errors.Is(err, ErrHotKeysOff):
		writeText(w, http.StatusNotFound, "hot keys are off (admin.hot_keys: off)")
	case err != nil:
		writeText(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, hk)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
