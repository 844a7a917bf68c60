package genesyssim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// controlRoutes registers the /_sim control API. Its requests are never counted in Stats
// and no fault applies to them.
func (s *Server) controlRoutes() {
	s.mux.HandleFunc("GET /_sim/events", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Events())
	})
	s.mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	s.mux.HandleFunc("POST /_sim/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	s.mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.CurrentFaults())
	})
	s.mux.HandleFunc("POST /_sim/faults", s.handleSetFaults)
	s.mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.SetFaults(Faults{})
		writeJSON(w, http.StatusOK, s.CurrentFaults())
	})
}

// handleSetFaults replaces the active faults with the JSON body; an empty body clears them.
func (s *Server) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, controlError{Error: "failed to read body: " + err.Error()})
		return
	}

	var faults Faults
	if len(bytes.TrimSpace(body)) > 0 {
		decoder := json.NewDecoder(bytes.NewReader(body))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(&faults); err != nil {
			writeJSON(w, http.StatusBadRequest, controlError{Error: "invalid faults JSON: " + err.Error()})
			return
		}
	}
	if err := faults.Validate(); err != nil {
		writeJSON(w, http.StatusBadRequest, controlError{Error: err.Error()})
		return
	}

	s.SetFaults(faults)
	writeJSON(w, http.StatusOK, s.CurrentFaults())
}

// controlError is the body of a rejected control request.
type controlError struct {
	Error string `json:"error"`
}

// SetFaults replaces the active faults with f, the same as POST /_sim/faults. Durations
// such as Outage.For start now. It panics if f.Validate fails, because invalid faults in
// Go code are a bug in the calling test; the HTTP endpoint returns 400 instead.
func (s *Server) SetFaults(f Faults) {
	if err := f.Validate(); err != nil {
		panic("genesyssim: invalid faults: " + err.Error())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f.activate(s.cfg.Now())
}

// CurrentFaults returns the active faults, the same as GET /_sim/faults, with the end
// times and remaining counts the server keeps.
func (s *Server) CurrentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.clone()
}

// Reset clears the received events, the counters, the faults, the sessions and the rate
// limit windows, the same as POST /_sim/reset. The configuration and the issued tokens
// stay valid, and the random source continues where it was.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.rec = newRecorder(s.cfg.Retention)
	s.faults = Faults{}
	s.sessions = newSessionTable(s.cfg.Retention)
	s.buckets = make(map[string]*deploymentLimit)
	s.tokenWindow = fixedWindow{}
	for _, token := range s.tokens {
		token.window = fixedWindow{}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	_ = encoder.Encode(v)
}
