package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// maxRSS is the peak resident memory of the process in KiB (VmHWM), the figure
// that compares with what Task Manager shows.
func maxRSS() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}
