package config

import (
	"reflect"
	"testing"
)

func TestInvalidKeepsFormatAndArgs(t *testing.T) {
	issue := Invalid("targets[0].weight", "weight %d is out of range: use 0 to 1000 (0 means 1)", 5000)

	if issue.Message != "weight 5000 is out of range: use 0 to 1000 (0 means 1)" {
		t.Errorf("Message = %q", issue.Message)
	}
	if issue.Format != "weight %d is out of range: use 0 to 1000 (0 means 1)" {
		t.Errorf("Format = %q", issue.Format)
	}
	if !reflect.DeepEqual(issue.Args, []any{5000}) {
		t.Errorf("Args = %#v, want []any{5000}", issue.Args)
	}
	if got, want := issue.Error(), "targets[0].weight: "+issue.Message; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestValidationErrorsCarryFormat(t *testing.T) {
	err := ValidateSlug("slug", "Not A Slug")
	issue, ok := err.(*FieldError)
	if !ok {
		t.Fatalf("ValidateSlug() error = %T %v, want *FieldError", err, err)
	}
	if issue.Format == "" || len(issue.Args) != 1 {
		t.Errorf("FieldError = %+v, want its format and one argument", issue)
	}
}
