package api

import (
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
)

// addMemberRequest is the body of POST .../members.
type addMemberRequest struct {
	Email string        `json:"email"`
	Role  accounts.Role `json:"role"`
}

// patchMemberRequest is the body of PATCH .../members/{user}.
type patchMemberRequest struct {
	Role accounts.Role `json:"role"`
}

func (h *handlers) registerMembers(v1 fiber.Router) {
	v1.Get("/tenants/:slug/members", handle(h.listMembers))
	v1.Post("/tenants/:slug/members", handle(h.addMember))
	v1.Get("/tenants/:slug/members/:user", handle(h.getMember))
	v1.Patch("/tenants/:slug/members/:user", handle(h.updateMember))
	v1.Delete("/tenants/:slug/members/:user", handle(h.removeMember))
}

func isNotFoundErr(err error) bool {
	return errors.Is(err, store.ErrNotFound)
}

func (h *handlers) listMembers(c *fiber.Ctx) (int, any, error) {
	members, err := h.store.ListMembers(requestContext(c), c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	return ok(members)
}

func (h *handlers) addMember(c *fiber.Ctx) (int, any, error) {
	var input addMemberRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	slug := c.Params("slug")
	member, err := h.store.AddMember(requestContext(c), slug, accounts.NormalizeEmail(input.Email), input.Role, roleOf(c))
	if err != nil {
		return failed(err)
	}
	return created(c, tenantPath(slug)+"/members/"+url.PathEscape(member.User), member)
}

func (h *handlers) getMember(c *fiber.Ctx) (int, any, error) {
	member, err := h.store.GetMember(requestContext(c), c.Params("slug"), c.Params("user"))
	if err != nil {
		return failed(err)
	}
	return ok(member)
}

func (h *handlers) updateMember(c *fiber.Ctx) (int, any, error) {
	var input patchMemberRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	member, err := h.store.UpdateMember(requestContext(c), c.Params("slug"), c.Params("user"), input.Role, roleOf(c))
	if err != nil {
		return failed(err)
	}
	return ok(member)
}

func (h *handlers) removeMember(c *fiber.Ctx) (int, any, error) {
	if err := h.store.RemoveMember(requestContext(c), c.Params("slug"), c.Params("user"), roleOf(c)); err != nil {
		return failed(err)
	}
	return noContent()
}
