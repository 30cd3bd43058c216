//go:build !linux

package main

// maxRSS is not measured off Linux; the startup benchmark runs under Xvfb.
func maxRSS() int { return 0 }
