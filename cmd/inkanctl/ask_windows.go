package main

import (
	"io"
	"unsafe"

	"golang.org/x/sys/windows"
)

// MessageBoxW flags and answers (winuser.h).
const (
	mbYesNo        = 0x00000004 // MB_YESNO
	mbIconError    = 0x00000010 // MB_ICONERROR
	mbIconQuestion = 0x00000020 // MB_ICONQUESTION
	mbIconInfo     = 0x00000040 // MB_ICONINFORMATION
	mbDefButton2   = 0x00000100 // MB_DEFBUTTON2: "No" is the default
	mbSetForegrnd  = 0x00010000 // MB_SETFOREGROUND
	mbTopmost      = 0x00040000 // MB_TOPMOST: above the installer's window
	idYes          = 6          // IDYES
)

var (
	kernel32                  = windows.NewLazySystemDLL("kernel32.dll")
	procGetConsoleProcessList = kernel32.NewProc("GetConsoleProcessList")
	procFreeConsole           = kernel32.NewProc("FreeConsole")
)

// leaveOwnConsole closes the console window Windows opened for this process
// alone, as it does for a console program the installer starts: the question
// is a dialog, and an empty black window beside it would only puzzle (what
// the command prints then goes nowhere; the installer reads none of it). A
// console shared with a command prompt (more than one process on it) stays.
func leaveOwnConsole() {
	var pids [2]uint32
	if procGetConsoleProcessList.Find() != nil || procFreeConsole.Find() != nil {
		return
	}
	if n, _, _ := procGetConsoleProcessList.Call(uintptr(unsafe.Pointer(&pids[0])), uintptr(len(pids))); n == 1 {
		_, _, _ = procFreeConsole.Call()
	}
}

// askYesNo asks the user in a dialog whose default button is "No".
func askYesNo(caption, text string, _ io.Reader, _ io.Writer) (bool, error) {
	ret, err := windows.MessageBox(0, windows.StringToUTF16Ptr(text), windows.StringToUTF16Ptr(caption),
		mbYesNo|mbIconQuestion|mbDefButton2|mbSetForegrnd|mbTopmost)
	if ret == 0 {
		return false, err
	}
	return ret == idYes, nil
}

// tell shows a message to the user.
func tell(caption, text string, failed bool) {
	icon := uint32(mbIconInfo)
	if failed {
		icon = mbIconError
	}
	_, _ = windows.MessageBox(0, windows.StringToUTF16Ptr(text), windows.StringToUTF16Ptr(caption), icon|mbSetForegrnd|mbTopmost)
}
