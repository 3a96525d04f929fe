package pluginhost

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtSource copies the verified "sub" claim into X-Sub.
const jwtSource = `func access(ctx, conf) {
  claims := crypto.jwt_verify(conf["token"], conf["key"], conf["alg"])
  ctx.req.set_header("X-Sub", claims["sub"])
}
`

// jwtKeys is a signing key and the PEM public key (or secret) that verifies it.
type jwtKeys struct {
	method jwt.SigningMethod
	sign   any
	verify string
}

func publicPEM(t *testing.T, key crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func newJWTKeys(t *testing.T) map[string]jwtKeys {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate EC key: %v", err)
	}
	edPublic, edPrivate, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generate Ed25519 key: %v", err)
	}
	return map[string]jwtKeys{
		"HS256": {jwt.SigningMethodHS256, []byte("test-secret"), "test-secret"},
		"RS256": {jwt.SigningMethodRS256, rsaKey, publicPEM(t, &rsaKey.PublicKey)},
		"ES256": {jwt.SigningMethodES256, ecKey, publicPEM(t, &ecKey.PublicKey)},
		"EdDSA": {jwt.SigningMethodEdDSA, edPrivate, publicPEM(t, edPublic)},
	}
}

func signJWT(t *testing.T, keys jwtKeys, expires time.Time) string {
	t.Helper()
	token, err := jwt.NewWithClaims(keys.method, jwt.MapClaims{"sub": "user-7", "exp": expires.Unix()}).SignedString(keys.sign)
	if err != nil {
		t.Fatalf("sign %s token: %v", keys.method.Alg(), err)
	}
	return token
}

// tamper flips one character of the token's signature.
func tamper(token string) string {
	last := token[len(token)-2]
	replacement := byte('A')
	if last == 'A' {
		replacement = 'B'
	}
	return token[:len(token)-2] + string(replacement) + token[len(token)-1:]
}

func TestJWTVerify(t *testing.T) {
	keys := newJWTKeys(t)
	otherAlg := map[string]string{"HS256": "HS384", "RS256": "PS256", "ES256": "ES384", "EdDSA": "RS256"}

	for _, alg := range []string{"HS256", "RS256", "ES256", "EdDSA"} {
		k := keys[alg]
		valid := signJWT(t, k, time.Now().Add(time.Hour))
		tests := []struct {
			name    string
			token   string
			alg     string
			wantErr string
		}{
			{name: "valid", token: valid, alg: alg},
			{name: "expired", token: signJWT(t, k, time.Now().Add(-time.Hour)), alg: alg, wantErr: "expired"},
			{name: "bad signature", token: tamper(valid), alg: alg, wantErr: "invalid token"},
			{name: "wrong alg", token: valid, alg: otherAlg[alg], wantErr: "crypto.jwt_verify"},
			{name: "alg none", token: valid, alg: "none", wantErr: "not supported"},
		}
		for _, tt := range tests {
			t.Run(alg+"/"+tt.name, func(t *testing.T) {
				conf, err := json.Marshal(map[string]string{"token": tt.token, "key": k.verify, "alg": tt.alg})
				if err != nil {
					t.Fatalf("encode config: %v", err)
				}
				instance := mustBind(t, jwtSource, string(conf))
				ex := newExchange()

				err = instance.Run(context.Background(), PhaseAccess, ex)

				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("Run error = %v, want nil", err)
					}
					if sub := ex.Request.Header.Get("X-Sub"); sub != "user-7" {
						t.Errorf("X-Sub = %q, want user-7", sub)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Run error = %v, want it to contain %q", err, tt.wantErr)
				}
				if sub := ex.Request.Header.Get("X-Sub"); sub != "" {
					t.Errorf("X-Sub = %q, want unset for a rejected token", sub)
				}
			})
		}
	}
}
