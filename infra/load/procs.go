package load

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Process is a process this program started, directly or not.
type Process struct {
	PID  int
	Role string // "load tool", "rie flush", "flush bootstrap", ...
}

// descendants returns the processes below pid, found through /proc.
func descendants(pid int) ([]Process, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	children := map[int][]int{}
	for _, entry := range entries {
		child, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		if parent, ok := parentPID(child); ok {
			children[parent] = append(children[parent], child)
		}
	}
	var out []Process
	queue := []int{pid}
	for len(queue) > 0 {
		current := queue[0]
		queue = queue[1:]
		for _, child := range children[current] {
			out = append(out, Process{PID: child, Role: processRole(child)})
			queue = append(queue, child)
		}
	}
	return out, nil
}

func parentPID(pid int) (int, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name in brackets may contain spaces, so the fields are
	// counted from the closing bracket: state, then the parent's pid.
	end := strings.LastIndexByte(string(data), ')')
	if end < 0 {
		return 0, false
	}
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 2 {
		return 0, false
	}
	parent, err := strconv.Atoi(fields[1])
	return parent, err == nil
}

// processRole names a process by its command line: "<function> bootstrap"
// for a function's binary, "rie <function>" for the emulator running one.
func processRole(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "unknown"
	}
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	if len(args) == 0 {
		return "unknown"
	}
	last := args[len(args)-1]
	function := filepath.Base(filepath.Dir(last))
	switch {
	case filepath.Base(args[0]) == "aws-lambda-rie":
		return "rie " + function
	case filepath.Base(args[0]) == "bootstrap":
		// The emulator starts the bootstrap from its directory, so the
		// function's name comes from the working directory.
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil {
			return filepath.Base(cwd) + " bootstrap"
		}
		return "bootstrap"
	}
	return filepath.Base(args[0])
}

// peakRSS returns VmHWM, the peak resident set size, of pid in KiB.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if value, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read VmHWM of %d: %w", pid, err)
			}
			return kib, nil
		}
	}
	return 0, fmt.Errorf("read VmHWM of %d: no VmHWM line", pid)
}

// MemoryTracker keeps the peak RSS seen of each process role, because a
// process that exits or is killed takes its VmHWM with it.
type MemoryTracker struct {
	mu   sync.Mutex
	peak map[string]int64 // KiB, by role
}

// Sample reads the peak RSS of this process and of every descendant.
func (m *MemoryTracker) Sample() {
	self := os.Getpid()
	procs, _ := descendants(self)
	procs = append(procs, Process{PID: self, Role: "load tool (kumo, simulators, poller)"})
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.peak == nil {
		m.peak = map[string]int64{}
	}
	for _, p := range procs {
		if kib, err := peakRSS(p.PID); err == nil {
			m.peak[p.Role] = max(m.peak[p.Role], kib)
		}
	}
}

// Peaks returns the peak RSS in KiB of each role.
func (m *MemoryTracker) Peaks() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int64{}
	for role, kib := range m.peak {
		out[role] = kib
	}
	return out
}

// killProcess sends SIGKILL to one process of the given role below this
// process, picking by index among them, and returns its pid.
func killProcess(role string, pick int) (int, error) {
	procs, err := descendants(os.Getpid())
	if err != nil {
		return 0, err
	}
	var matching []int
	for _, p := range procs {
		if p.Role == role {
			matching = append(matching, p.PID)
		}
	}
	if len(matching) == 0 {
		return 0, fmt.Errorf("kill %s: no such process is running", role)
	}
	pid := matching[pick%len(matching)]
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return 0, fmt.Errorf("kill %s %d: %w", role, pid, err)
	}
	return pid, nil
}
