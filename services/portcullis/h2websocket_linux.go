//go:build linux

package main

// WebSocket over HTTP/2 (RFC 8441) needs the edge's HTTP/2 server to send
// SETTINGS_ENABLE_CONNECT_PROTOCOL. Go 1.26's net/http sends it only when
// GODEBUG contains http2xconnect=1 at process start: net/http reads the
// variable in an init function, before main runs, and a //go:debug
// directive does not set it. So "portcullis serve" with an edge role
// replaces itself once, through execve(2) of its own binary, with the same
// arguments and environment plus that setting. The new process finds the
// setting and goes on to serve.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// h2WebSocketVariable turns the re-execution off when set to "off".
const h2WebSocketVariable = "PORTCULLIS_H2_WEBSOCKET"

// extendedConnectSetting is the GODEBUG setting that net/http reads.
const extendedConnectSetting = "http2xconnect=1"

// enableH2WebSocket re-executes the process with extendedConnectSetting
// when serveArgs, the flags of "portcullis serve", run an edge and the
// environment lacks the setting. It returns only when no re-execution is
// needed or the exec failed, which it logs, and it returns an error for an
// invalid PORTCULLIS_H2_WEBSOCKET value.
func enableH2WebSocket(serveArgs []string) error {
	cfg, _, logLevel, err := parseServeFlags(serveArgs, io.Discard)
	if err != nil {
		// runServe reports the flag error.
		return nil
	}
	environ, err := extendedConnectEnviron(os.Environ(), cfg.Role)
	if err != nil || environ == nil {
		return err
	}

	logger := newLogger(logLevel)
	logger.Info("re-executing with GODEBUG "+extendedConnectSetting+" so that HTTP/2 accepts WebSocket (RFC 8441); set "+h2WebSocketVariable+"=off to skip",
		"godebug", lookupEnv(environ, "GODEBUG"))
	err = syscall.Exec(executablePath(), os.Args, environ)
	logger.Error("re-execution failed; WebSocket over HTTP/2 stays off", "error", err)
	return nil
}

// executablePath returns the file of the running binary. execve(2) of
// /proc/self/exe would name the new process "exe" in ps and pgrep, so the
// link's target is used while it still exists.
func executablePath() string {
	path, err := os.Executable()
	if err != nil || strings.HasSuffix(path, " (deleted)") {
		return "/proc/self/exe"
	}
	return path
}

// extendedConnectEnviron returns environ with extendedConnectSetting added
// to GODEBUG, or nil when the process must not re-execute: the role runs
// no edge (role "portal"), GODEBUG already sets http2xconnect to any value,
// or PORTCULLIS_H2_WEBSOCKET is "off".
func extendedConnectEnviron(environ []string, role string) ([]string, error) {
	switch value := lookupEnv(environ, h2WebSocketVariable); strings.ToLower(value) {
	case "", "on":
	case "off":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s=%q is invalid: use on or off", h2WebSocketVariable, value)
	}
	if role == "portal" {
		return nil, nil
	}

	godebug := lookupEnv(environ, "GODEBUG")
	for _, setting := range strings.Split(godebug, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(setting), "=")
		if name == "http2xconnect" {
			return nil, nil
		}
	}

	if godebug == "" {
		godebug = extendedConnectSetting
	} else {
		godebug += "," + extendedConnectSetting
	}
	out := make([]string, 0, len(environ)+1)
	for _, entry := range environ {
		if !strings.HasPrefix(entry, "GODEBUG=") {
			out = append(out, entry)
		}
	}
	return append(out, "GODEBUG="+godebug), nil
}

// lookupEnv returns the value of the first entry of environ named name, as
// os.Getenv does, or "".
func lookupEnv(environ []string, name string) string {
	for _, entry := range environ {
		if value, ok := strings.CutPrefix(entry, name+"="); ok {
			return value
		}
	}
	return ""
}
