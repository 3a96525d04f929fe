package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// startVerify compiles the plugin of v and runs its test vectors in a
// goroutine of their own, so that calls keep flowing while they run. The
// compile happens here, on the read loop, because the compile cache belongs
// to it. The run is registered as a call, so a Cancel frame with its id
// stops it.
func (s *server) startVerify(id uint64, v *Verify) error {
	plugin, err := s.compile(Binding{Plugin: v.Plugin, Version: v.Version, Source: v.Source})
	if err != nil {
		verified := &Verified{Err: err.Error()}
		if compileErr := (*pluginhost.CompileError)(nil); errors.As(err, &compileErr) {
			verified.Compile = compileErr
		}
		return s.conn.Send(&Frame{Kind: KindVerified, ID: id, Verified: verified})
	}
	if len(v.Vectors) == 0 {
		return s.conn.Send(&Frame{Kind: KindVerified, ID: id, Verified: &Verified{}})
	}

	s.runRegistered(id, v.Timeout, func(ctx context.Context) *Frame {
		return &Frame{Kind: KindVerified, ID: id, Verified: runVectors(ctx, plugin, v)}
	})
	return nil
}

// runRegistered runs run in a goroutine of its own under a context that
// ends after timeout, or never when timeout is zero, and sends the frame
// it returns. The run is registered as call id, so a Cancel frame with
// that id ends its context.
func (s *server) runRegistered(id uint64, timeout time.Duration, run func(context.Context) *Frame) {
	ctx, cancel := context.WithCancel(context.Background())
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	}
	s.mu.Lock()
	s.calls[id] = cancel
	s.mu.Unlock()

	go func() {
		reply := run(ctx)
		cancel()

		s.mu.Lock()
		delete(s.calls, id)
		s.mu.Unlock()
		// A failed send means the connection is gone, and the read loop
		// ends the worker.
		_ = s.conn.Send(reply)
	}()
}

// runVectors runs the vectors of v as the edge's pre-flight runs them
// in-process, and reports the first failure.
func runVectors(ctx context.Context, plugin *pluginhost.Plugin, v *Verify) *Verified {
	vectors, err := pluginpkg.ParseVectors("test_vectors", v.Vectors)
	if err != nil {
		return &Verified{Err: err.Error()}
	}
	var options pluginpkg.RunOptions
	if !v.Publish {
		options.BindingConfig = v.Config
		if len(options.BindingConfig) == 0 {
			options.BindingConfig = []byte("{}")
		}
	}

	results := pluginpkg.Run(ctx, plugin, vectors, options)
	var failure *pluginpkg.VectorError
	if errors.As(pluginpkg.FirstFailure(results), &failure) {
		return &Verified{Vector: failure.Vector, Differences: failure.Differences}
	}

	// Vectors skipped because the run was canceled or timed out are no
	// pass.
	if err := ctx.Err(); err != nil {
		return &Verified{Err: fmt.Sprintf("test vectors stopped before they finished: %v", err)}
	}
	return &Verified{}
}

// Failure returns the error of the run that v reports: a
// *pluginhost.CompileError for source that does not compile, a
// *pluginpkg.VectorError for a failed vector, the worker's error when the
// vectors did not run for another reason, and nil when every vector passed
// or was skipped.
func (v *Verified) Failure() error {
	switch {
	case v.Compile != nil:
		return &compileFailure{message: v.Err, err: v.Compile}
	case v.Err != "":
		return errors.New(v.Err)
	case v.Vector != "":
		return &pluginpkg.VectorError{Vector: v.Vector, Differences: v.Differences}
	}
	return nil
}

// compileFailure is the worker's compile error: its message names the
// plugin and version, and it unwraps to the *pluginhost.CompileError with
// the position.
type compileFailure struct {
	message string
	err     *pluginhost.CompileError
}

func (e *compileFailure) Error() string {
	return e.message
}

func (e *compileFailure) Unwrap() error {
	return e.err
}
