package edge

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginpkg"
)

func TestRejectionReasonDropsConfigValues(t *testing.T) {
	vectorErr := &pluginpkg.VectorError{
		Vector:      "adds the token",
		Differences: []string{`upstream header Authorization = "Bearer s3cret", want "Bearer x"`},
	}
	preflightErr := fmt.Errorf(`pre-flight of plugin "auth" version "1.0.0" for binding "b1": %w`, vectorErr)
	targetErr := errors.New(`upstream "backend": target "https://user:s3cret@api.example.com/?key=s3cret" is invalid: parse "https://user:s3cret@api.example.com/?key=s3cret": bad`)

	cases := []struct {
		name string
		err  error
		want string
	}{
		{"vector", preflightErr, `pre-flight of plugin "auth" version "1.0.0" for binding "b1": test vector "adds the token" failed`},
		{"url", targetErr, `upstream "backend": target "<URL removed>" is invalid: parse "<URL removed>": bad`},
		{"plain", errors.New(`binding "b1": plugin "auth" version "2.0.0" is missing from the bundle`), `binding "b1": plugin "auth" version "2.0.0" is missing from the bundle`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := rejectionReason(c.err)
			if got != c.want {
				t.Errorf("reason = %q, want %q", got, c.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Errorf("reason %q contains the secret", got)
			}
		})
	}
}
