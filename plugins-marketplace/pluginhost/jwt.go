package pluginhost

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/risor-io/risor/object"
)

// jwtAlgorithms are the signing methods that crypto.jwt_verify accepts.
// "none" is never among them.
var jwtAlgorithms = map[string]bool{
	"HS256": true, "HS384": true, "HS512": true,
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// jwtVerify implements crypto.jwt_verify(token, key, alg): it checks the
// signature with key (the shared secret for HS*, a PEM public key for the
// others) and the exp, nbf and iat claims, and returns the claims as a map.
// Any failure raises an error.
func jwtVerify(_ context.Context, args []object.Object) object.Object {
	if err := argCount("crypto.jwt_verify", args, 3, 3); err != nil {
		return err
	}
	token, err := argString("crypto.jwt_verify", args, 0)
	if err != nil {
		return err
	}
	keyText, err := argString("crypto.jwt_verify", args, 1)
	if err != nil {
		return err
	}
	alg, err := argString("crypto.jwt_verify", args, 2)
	if err != nil {
		return err
	}
	if !jwtAlgorithms[alg] {
		return object.Errorf("value error: crypto.jwt_verify: algorithm %q is not supported: use HS256, RS256, ES256, EdDSA or another of their family", alg)
	}

	key, keyErr := jwtKey(alg, keyText)
	if keyErr != nil {
		return object.Errorf("value error: crypto.jwt_verify: %v", keyErr)
	}

	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithIssuedAt())
	if _, parseErr := parser.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil }); parseErr != nil {
		return object.Errorf("value error: crypto.jwt_verify: invalid token: %v", parseErr)
	}
	return fromPlainJSON(map[string]any(claims))
}

// jwtKey parses the verification key for alg.
func jwtKey(alg, text string) (any, error) {
	if strings.HasPrefix(alg, "HS") {
		if text == "" {
			return nil, errors.New("the secret is empty")
		}
		return []byte(text), nil
	}

	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("the key is not PEM: pass a public key that starts with -----BEGIN PUBLIC KEY-----")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("the key is not a PKIX public key")
	}
	return key, nil
}

// fromPlainJSON converts a value that encoding/json decoded without
// UseNumber, whose numbers are float64: integral ones become ints.
func fromPlainJSON(value any) object.Object {
	switch value := value.(type) {
	case float64:
		if value == float64(int64(value)) {
			return object.NewInt(int64(value))
		}
		return object.NewFloat(value)
	case []any:
		items := make([]object.Object, len(value))
		for i, item := range value {
			items[i] = fromPlainJSON(item)
		}
		return object.NewList(items)
	case map[string]any:
		items := make(map[string]object.Object, len(value))
		for key, item := range value {
			items[key] = fromPlainJSON(item)
		}
		return object.NewMap(items)
	}
	return fromPlain(value)
}
