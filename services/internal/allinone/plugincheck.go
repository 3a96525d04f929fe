package allinone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"portcullis.dev/edge/sandbox"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/portal"
	"portcullis.dev/portal/store"
)

// checkLabel names the portal's checks in the logs and errors of their
// plugin workers, where the edge names a tenant. No tenant slug has
// parentheses, so the label cannot be taken for a tenant.
const checkLabel = "(portal)"

// checkLabelFor returns the label of a check of plugin's code: "(portal)"
// and the plugin's namespace, such as "(portal) acme" for "acme/auth" and
// "(portal) portcullis" for the operator's bare names. The pool's check
// worker takes turns by label. A publisher writes the code and the test
// vectors that a check runs. So the checks of one namespace, such as a
// publisher's many plugins with slow vectors, wait behind each other. They
// delay a check of another namespace by at most one.
func checkLabelFor(plugin string) string {
	namespace, _, qualified := strings.Cut(plugin, "/")
	if !qualified {
		namespace = store.OperatorNamespace
	}
	return checkLabel + " " + namespace
}

// pluginChecks runs the portal's checks of plugin code in plugin worker
// processes: the compile and the test vectors of a version at publish, and
// the try of a route. Publishers and tenants write that code, and a script
// that exhausts memory or overflows its stack ends the whole Go process
// that runs it, so the portal runs none of it itself. One check runs at a
// time, and each in a new worker (sandbox.Pool.Verify).
type pluginChecks struct {
	pool *sandbox.Pool
}

// newPluginChecks starts the pool of the portal's checks with the
// workers' command and limits of cfg.
func newPluginChecks(cfg sandbox.Config) (*pluginChecks, error) {
	pool, err := sandbox.New(sandbox.Config{
		Command:      cfg.Command,
		MaxWorkers:   1,
		MemoryLimit:  cfg.MemoryLimit,
		Procs:        cfg.Procs,
		Dir:          cfg.Dir,
		CgroupParent: cfg.CgroupParent,
		User:         cfg.User,
		Logger:       cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	pool.LogConfinement("plugin check workers")
	return &pluginChecks{pool: pool}, nil
}

// compile compiles a version's source and runs its top-level code in a
// worker, as portal.Compiler.
func (c *pluginChecks) compile(name, version, source string) error {
	ctx, cancel := context.WithTimeout(context.Background(), sandbox.DefaultVerifyTimeout)
	defer cancel()

	err := c.pool.Verify(ctx, checkLabelFor(name), worker.Verify{Plugin: name, Version: version, Source: source})
	if summary, ok := workerExit(err); ok {
		return fmt.Errorf("its top-level code ended the plugin worker that ran it: %s", summary)
	}
	return portalCompileError(portalUnavailable(err))
}

// test runs a version's test vectors in a worker, as portal.Tester. The
// vectors are parsed here first, so invalid ones get the field errors of a
// *pluginpkg.ValidationError.
func (c *pluginChecks) test(ctx context.Context, name, version, source string, vectors json.RawMessage) error {
	if _, err := pluginpkg.ParseVectors("test_vectors", vectors); err != nil {
		return err
	}

	err := c.pool.Verify(ctx, checkLabelFor(name), worker.Verify{Plugin: name, Version: version, Source: source, Vectors: vectors, Publish: true})
	if summary, ok := workerExit(err); ok {
		return fmt.Errorf("a test vector ended the plugin worker that ran it: %s", summary)
	}
	return portalVectorError(portalCompileError(portalUnavailable(err)))
}

// testBinding runs a version's test vectors with a binding's config in a
// worker, as portal.BindingTester.
func (c *pluginChecks) testBinding(ctx context.Context, name, version, source string, vectors, config json.RawMessage) error {
	err := c.pool.Verify(ctx, checkLabelFor(name), worker.Verify{Plugin: name, Version: version, Source: source, Vectors: vectors, Config: config})
	if summary, ok := workerExit(err); ok {
		return fmt.Errorf("a test vector ended the plugin worker that ran it: %s", summary)
	}
	return portalVectorError(portalCompileError(portalUnavailable(err)))
}

// trace runs a route's chain in a worker, as api.Tracer.
func (c *pluginChecks) trace(ctx context.Context, tenant string, steps []pluginpkg.TraceSource, request pluginpkg.VectorRequest, hookTimeout time.Duration) (pluginpkg.Trace, error) {
	trace, err := c.pool.Trace(ctx, tenant, worker.Trace{Steps: steps, Request: request, HookTimeout: hookTimeout})
	if summary, ok := workerExit(err); ok {
		return trace, fmt.Errorf("a hook ended the plugin worker that ran the chain: %s", summary)
	}
	return trace, portalUnavailable(err)
}

// workerExit returns the short form of the exit of a worker that failed
// during a check, so API responses name the cause without the worker's
// whole output, which the log keeps.
func workerExit(err error) (string, bool) {
	var exitErr *sandbox.ExitError
	if !errors.As(err, &exitErr) {
		return "", false
	}
	return exitErr.Summary, true
}

func (c *pluginChecks) close() {
	c.pool.Close()
}

// checkRetryAfter is the Retry-After of a check that found the check
// worker busy: the time one check may run (sandbox.DefaultVerifyTimeout),
// after which the check that held the worker has ended or is about to.
const checkRetryAfter = sandbox.DefaultVerifyTimeout

// portalUnavailable turns an error of a check that did not start
// (sandbox.ErrCheckUnavailable) into a *portal.UnavailableError, so the
// API responds with 503 and a Retry-After instead of blaming the plugin's
// source, vectors or config.
func portalUnavailable(err error) error {
	if errors.Is(err, sandbox.ErrCheckUnavailable) {
		return &portal.UnavailableError{Err: err, RetryAfter: checkRetryAfter}
	}
	return err
}

// portalCompileError turns a *pluginhost.CompileError in err into the
// portal's, so the API names the line and column.
func portalCompileError(err error) error {
	var compileErr *pluginhost.CompileError
	if errors.As(err, &compileErr) {
		return &portal.CompileError{Line: compileErr.Line, Column: compileErr.Column, Message: compileErr.Message}
	}
	return err
}

// portalVectorError turns a *pluginpkg.VectorError in err into the
// portal's, so the API names the failing vector.
func portalVectorError(err error) error {
	var vectorErr *pluginpkg.VectorError
	if errors.As(err, &vectorErr) {
		return &portal.VectorError{Vector: vectorErr.Vector, Differences: vectorErr.Differences}
	}
	return err
}
