package cosmos

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// The fault and budget operations of the control plane:
//
//	GET    /_emulator/faults   the active faults
//	POST   /_emulator/faults   start the fault in the body; 201 with its state
//	DELETE /_emulator/faults   end every fault
//	GET    /_emulator/budgets  throughput budgets and what they throttled
//	GET    /_emulator/charges  request units charged by container and operation (charges.go)
func init() {
	controlHandlers["GET faults"] = (*Server).controlListFaults
	controlHandlers["POST faults"] = (*Server).controlInjectFault
	controlHandlers["DELETE faults"] = (*Server).controlClearFaults
	controlHandlers["GET budgets"] = (*Server).controlBudgets
}

func (s *Server) controlListFaults(w http.ResponseWriter, _ *http.Request) error {
	return controlJSON(w, http.StatusOK, s.Faults())
}

func (s *Server) controlInjectFault(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var f Fault
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return errBadRequest("The fault is not valid JSON: %v.", err)
	}
	st, err := s.InjectFault(f)
	if err != nil {
		return errBadRequest("%v.", err)
	}
	return controlJSON(w, http.StatusCreated, st)
}

func (s *Server) controlClearFaults(w http.ResponseWriter, _ *http.Request) error {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) controlBudgets(w http.ResponseWriter, _ *http.Request) error {
	return controlJSON(w, http.StatusOK, s.Budgets())
}

func controlJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeJSON(w, status, "0", body)
	return nil
}
