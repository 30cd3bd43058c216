//go:build !windows

package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// askYesNo asks on the terminal; anything but y/yes/はい keeps the default, "no".
func askYesNo(caption, text string, in io.Reader, out io.Writer) (bool, error) {
	fmt.Fprintf(out, "%s\n\n%s\n[y/N] ", caption, text)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		if err == io.EOF {
			return false, nil
		}
		return false, fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes", "はい":
		return true, nil
	}
	return false, nil
}

// tell writes nothing more: the command's own output already said it.
func tell(string, string, bool) {}

// leaveOwnConsole is for Windows, where the installer's console programs get a
// console window of their own; elsewhere there is none.
func leaveOwnConsole() {}
