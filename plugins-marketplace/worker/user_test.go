package worker

import (
	"strings"
	"testing"
)

func TestParseUser(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  *userID
		err   string
	}{
		{value: ""},
		{value: "65534:65534", want: &userID{uid: 65534, gid: 65534}},
		{value: "1000:100", want: &userID{uid: 1000, gid: 100}},
		{value: "nobody", err: "is not UID:GID"},
		{value: "1000", err: "is not UID:GID"},
		{value: "1000:x", err: "is not UID:GID"},
		{value: "-1:5", err: "is not UID:GID"},
		{value: "0:0", err: "names root"},
		{value: "1000:0", err: "names root"},
		{value: "4294967295:4294967295", err: "is invalid"},
		{value: "1000:4294967295", err: "is invalid"},
	} {
		got, err := parseUser(tc.value)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseUser(%q) error = %v, want one that contains %q", tc.value, err, tc.err)
			}
		case err != nil:
			t.Errorf("parseUser(%q): %v", tc.value, err)
		case (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want:
			t.Errorf("parseUser(%q) = %v, want %v", tc.value, got, tc.want)
		}
	}
}
