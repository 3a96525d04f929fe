package pluginhost

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Prepared changes skip the checks of a single field, so each list must
// end the same, prepared or not: the same result and the same headers.
func TestPreparedChangesMatchUnprepared(t *testing.T) {
	big := strings.Repeat("v", MaxHeaderField-10)
	var fill []HeaderChange
	for i := range 40 {
		fill = append(fill, HeaderChange{Name: fmt.Sprintf("X-Fill-%02d", i), Value: big})
	}
	cases := map[string][]HeaderChange{
		"valid":             {{Name: "x-lower", Value: "1"}, {Response: true, Name: "X-Resp", Value: "2"}},
		"delete":            {{Delete: true, Name: "accept"}, {Name: "Accept", Value: "text/plain"}},
		"delete bad name":   {{Delete: true, Name: "bad name"}},
		"bad name":          {{Name: "x-ok", Value: "1"}, {Name: "bad name", Value: "1"}},
		"control character": {{Name: "X-Ctl", Value: "a\x01"}},
		"managed":           {{Response: true, Name: "content-length", Value: "1"}},
		"managed request":   {{Name: "Content-Length", Value: "1"}},
		"field too large":   {{Name: "X-Big", Value: strings.Repeat("v", MaxHeaderField)}},
		"header too large":  fill,
	}

	for name, changes := range cases {
		t.Run(name, func(t *testing.T) {
			prepared := slices.Clone(changes)
			PrepareHeaderChanges(prepared)

			plainEx, preparedEx := newExchange(), newExchange()
			plainOK := ApplyHeaderChanges(plainEx, changes)
			preparedOK := ApplyHeaderChanges(preparedEx, prepared)

			if plainOK != preparedOK {
				t.Fatalf("ApplyHeaderChanges() = %v prepared, %v unprepared", preparedOK, plainOK)
			}
			if !reflect.DeepEqual(preparedEx.Request.Header, plainEx.Request.Header) ||
				!reflect.DeepEqual(preparedEx.Response.Header, plainEx.Response.Header) {
				t.Errorf("prepared headers %v / %v, unprepared %v / %v", preparedEx.Request.Header,
					preparedEx.Response.Header, plainEx.Request.Header, plainEx.Response.Header)
			}
		})
	}
}

// Exchanges share the values of a prepared change, so adding a value to
// the field of one exchange must not reach another or the change.
func TestPreparedValuesStayApart(t *testing.T) {
	changes := []HeaderChange{{Name: "X-Tag", Value: "t1"}, {Name: "X-Other", Value: "o1"}}
	PrepareHeaderChanges(changes)

	first, second := newExchange(), newExchange()
	if !ApplyHeaderChanges(first, changes) || !ApplyHeaderChanges(second, changes) {
		t.Fatal("ApplyHeaderChanges() = false, want true")
	}
	first.Request.Header.Add("X-Tag", "added")
	second.Request.Header.Add("X-Tag", "other")

	if got := second.Request.Header.Values("X-Tag"); !slices.Equal(got, []string{"t1", "other"}) {
		t.Errorf("second exchange X-Tag = %q, want [t1 other]", got)
	}
	if got := first.Request.Header.Values("X-Tag"); !slices.Equal(got, []string{"t1", "added"}) {
		t.Errorf("first exchange X-Tag = %q, want [t1 added]", got)
	}
	if !slices.Equal(changes[0].values, []string{"t1"}) || !slices.Equal(changes[1].values, []string{"o1"}) {
		t.Errorf("prepared values = %q, %q, want them unchanged", changes[0].values, changes[1].values)
	}
}
