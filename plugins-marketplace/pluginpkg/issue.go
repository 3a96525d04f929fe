package pluginpkg

import (
	"fmt"
	"strings"
)

// Issue is one problem in a plugin package: the file, the field (a path
// such as "permissions.allow_hosts[0]" or "[2].expect.status"), the line
// and the column when they are known.
type Issue struct {
	File    string
	Field   string
	Line    int
	Column  int
	Message string
}

// String formats the issue as "file:line:column: field: message", leaving
// out the parts that are unknown.
func (i Issue) String() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		fmt.Fprintf(&b, ":%d", i.Line)
		if i.Column > 0 {
			fmt.Fprintf(&b, ":%d", i.Column)
		}
	}
	if i.Field != "" {
		fmt.Fprintf(&b, ": %s", i.Field)
	}
	fmt.Fprintf(&b, ": %s", i.Message)
	return b.String()
}

// ValidationError lists every issue that Load found in a package.
type ValidationError struct {
	Issues []Issue
}

// Error returns the issues, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, issue := range e.Issues {
		lines[i] = issue.String()
	}
	return "invalid plugin package:\n" + strings.Join(lines, "\n")
}

// issues collects Issues of one file. add leaves Line unset, so that
// setLines can look up the lines of all fields in one walk of the file.
type issues struct {
	file string
	list []Issue
}

func (is *issues) add(field, format string, args ...any) {
	is.list = append(is.list, Issue{File: is.file, Field: field, Message: fmt.Sprintf(format, args...)})
}

// fields returns the field of each issue.
func (is *issues) fields() []string {
	fields := make([]string, len(is.list))
	for i, issue := range is.list {
		fields[i] = issue.Field
	}
	return fields
}

// setLines sets the line of each issue to the line of its field in lines,
// or to 0 when lines lacks the field.
func (is *issues) setLines(lines map[string]int) {
	for i := range is.list {
		is.list[i].Line = lines[is.list[i].Field]
	}
}
