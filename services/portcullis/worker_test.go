package main

import (
	"os"
	"strings"
	"testing"

	"portcullis.dev/edge/sandbox"
)

func TestSetWorkerCommand(t *testing.T) {
	executable, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	cfg := sandbox.Config{MaxWorkers: 4}
	if err := setWorkerCommand(&cfg); err != nil {
		t.Fatalf("setWorkerCommand: %v", err)
	}
	if len(cfg.Command) != 2 || cfg.Command[0] != executable || cfg.Command[1] != "worker" {
		t.Errorf("command = %q, want [%q worker]", cfg.Command, executable)
	}

	off := sandbox.Config{MaxWorkers: 0}
	if err := setWorkerCommand(&off); err != nil {
		t.Fatalf("setWorkerCommand: %v", err)
	}
	if off.Command != nil {
		t.Errorf("command with 0 workers = %q, want none, so plugins run in-process", off.Command)
	}
}

func TestParseServeFlagsPluginWorkers(t *testing.T) {
	cfg, edgeCfg, _, err := parseServeFlags([]string{"-plugin-workers", "2"}, os.Stderr)
	if err != nil {
		t.Fatalf("parseServeFlags: %v", err)
	}
	if cfg.Sandbox.MaxWorkers != 2 || len(edgeCfg.Sandbox.Command) != 2 {
		t.Errorf("sandbox = %+v / %+v, want 2 workers and a command in both roles", cfg.Sandbox, edgeCfg.Sandbox)
	}
}

func TestParseServeFlagsPluginCgroup(t *testing.T) {
	cfg, edgeCfg, _, err := parseServeFlags([]string{"-plugin-cgroup", "/sys/fs/cgroup/portcullis"}, os.Stderr)
	if err != nil {
		t.Fatalf("parseServeFlags: %v", err)
	}
	if cfg.Sandbox.CgroupParent != "/sys/fs/cgroup/portcullis" {
		t.Errorf("all-in-one cgroup parent = %q, want the flag's folder", cfg.Sandbox.CgroupParent)
	}
	if edgeCfg.Sandbox.CgroupParent != "/sys/fs/cgroup/portcullis" {
		t.Errorf("edge cgroup parent = %q, want the flag's folder", edgeCfg.Sandbox.CgroupParent)
	}
}

func TestParseServeFlagsCgroupWithoutWorkers(t *testing.T) {
	_, _, _, err := parseServeFlags([]string{"-plugin-workers", "0", "-plugin-cgroup", "/sys/fs/cgroup/portcullis"}, os.Stderr)
	if err == nil {
		t.Fatal("parseServeFlags accepted --plugin-cgroup with --plugin-workers 0, want an error")
	}
	if !strings.Contains(err.Error(), "--plugin-workers 0") {
		t.Errorf("error = %q, want it to name --plugin-workers 0", err)
	}
}
