package worker

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// userID is the numeric user and group that a worker switches to.
type userID struct {
	uid, gid int
}

// parseUser parses the -user flag, "UID:GID". It returns nil for an empty
// value, which keeps the user that started the worker.
func parseUser(value string) (*userID, error) {
	if value == "" {
		return nil, nil
	}

	uidText, gidText, found := strings.Cut(value, ":")
	uid, uidErr := strconv.ParseUint(uidText, 10, 32)
	gid, gidErr := strconv.ParseUint(gidText, 10, 32)
	if !found || uidErr != nil || gidErr != nil {
		return nil, fmt.Errorf("-user %q is not UID:GID, such as 65534:65534", value)
	}
	if uid == 0 || gid == 0 {
		return nil, fmt.Errorf("-user %q names root: leave -user out to keep the user that started the worker", value)
	}
	if uid == math.MaxUint32 || gid == math.MaxUint32 {
		return nil, fmt.Errorf("-user %q is invalid: 4294967295 means \"no change\" to setresuid and setresgid", value)
	}
	return &userID{uid: int(uid), gid: int(gid)}, nil
}
