package api

import (
	"github.com/gofiber/fiber/v2"
)

// reviewRequest is the body of POST .../versions/{version}/review. A
// missing reviewed field means true.
type reviewRequest struct {
	Reviewed *bool `json:"reviewed"`
}

// reviewPluginVersion marks a plugin version reviewed, or not, for the
// operator alone: the bindings of a reviewed version run inside the edge
// process instead of a sandboxed worker.
func (h *handlers) reviewPluginVersion(c *fiber.Ctx) (int, any, error) {
	if !principalOf(c).operator {
		return failed(forbidden("only the operator may mark a plugin version reviewed"))
	}
	var input reviewRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &input); err != nil {
			return failed(err)
		}
	}
	reviewed := input.Reviewed == nil || *input.Reviewed

	review, err := h.store.SetPluginReviewed(requestContext(c), publisherOf(c), pluginParam(c), c.Params("version"), reviewed)
	if err != nil {
		return failed(err)
	}
	return ok(review)
}
