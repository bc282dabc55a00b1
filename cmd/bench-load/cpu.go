package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const userHZ = 100

// procStat is what /proc/<pid>/stat says about one process.
type procStat struct {
	pid, ppid int
	comm      string
	cpu       time.Duration // utime + stime
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// parseStat reads "pid (comm) state ppid … utime stime …"; comm may hold
// spaces and parentheses, so fields are counted from the last ')'.
func parseStat(s string) (procStat, error) {
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("stat %q: no (comm)", s)
	}
	f := strings.Fields(s[end+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("stat %q: %d fields", s, len(f))
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(s[:open]))
	ppid, err2 := strconv.Atoi(f[1])
	utime, err3 := strconv.ParseInt(f[11], 10, 64)
	stime, err4 := strconv.ParseInt(f[12], 10, 64)
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return procStat{}, fmt.Errorf("stat %q: %w", s, err)
		}
	}
	return procStat{pid: pid, ppid: ppid, comm: s[open+1 : end], cpu: time.Duration(utime+stime) * time.Second / userHZ}, nil
}

// process is one process of the stack whose CPU time is measured.
type process struct {
	Name string // devstack, handler, servicebus (node), bench-load
	PID  int
}

// stackProcesses finds devstack's handler and Service Bus emulator among its
// children by their command names, and adds this process.
func stackProcesses(devstackPID int) ([]process, error) {
	procs := []process{{Name: "bench-load (this process)", PID: os.Getpid()}}
	if devstackPID == 0 {
		return procs, nil
	}
	procs = append(procs, process{Name: "devstack (Cosmos emulator + host)", PID: devstackPID})
	kids, err := children(devstackPID)
	if err != nil {
		return nil, err
	}
	for _, k := range kids {
		switch k.comm {
		case "handler":
			procs = append(procs, process{Name: "handler", PID: k.pid})
		case "node":
			procs = append(procs, process{Name: nodeName(k.pid), PID: k.pid})
		}
	}
	return procs, nil
}

// nodeName tells devstack's two node children apart by their command line:
// the Service Bus emulator and Azurite.
func nodeName(pid int) string {
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if bytes.Contains(cmdline, []byte("azurite")) {
		return "azurite (node)"
	}
	return "servicebus emulator (node)"
}

func children(ppid int) ([]procStat, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []procStat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.ppid == ppid {
			out = append(out, st)
		}
	}
	return out, nil
}

// peakRSS is the most resident memory a process has had (VmHWM in
// /proc/<pid>/status), in bytes; -1 if it has gone or does not say.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return -1
	}
	return parseVmHWM(string(b))
}

// parseVmHWM reads the "VmHWM:    1234 kB" line of a /proc status file.
func parseVmHWM(status string) int64 {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return -1
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return -1
		}
		return kb << 10
	}
	return -1
}

// peakRSSes is peakRSS of every process.
func peakRSSes(procs []process) []int64 {
	out := make([]int64, len(procs))
	for i, p := range procs {
		out[i] = peakRSS(p.PID)
	}
	return out
}

// cpuTimes reads the CPU time of every process; a process that has gone
// (a restarted handler) reads as -1.
func cpuTimes(procs []process) []time.Duration {
	out := make([]time.Duration, len(procs))
	for i, p := range procs {
		st, err := readStat(p.PID)
		if err != nil {
			out[i] = -1
			continue
		}
		out[i] = st.cpu
	}
	return out
}

// ioCalls is how many read and write system calls every process has made
// (syscr + syscw in /proc/<pid>/io: read, write and their vector and
// positional kinds, on files and sockets alike); -1 for one that has gone.
// Unlike CPU time it does not move with the machine's speed, so it shows
// what a change to the wire traffic bought on a noisy machine.
func ioCalls(procs []process) []int64 {
	out := make([]int64, len(procs))
	for i, p := range procs {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.PID), "io"))
		if err != nil {
			out[i] = -1
			continue
		}
		out[i] = parseIOCalls(string(b))
	}
	return out
}

// parseIOCalls adds the syscr and syscw lines of a /proc io file; -1 if
// either is missing.
func parseIOCalls(io string) int64 {
	var sum int64
	seen := 0
	for line := range strings.Lines(io) {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "syscr" && name != "syscw") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return -1
		}
		sum += n
		seen++
	}
	if seen != 2 {
		return -1
	}
	return sum
}
