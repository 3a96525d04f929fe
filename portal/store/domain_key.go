package store

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
)

// checkPrivateKey checks that keyPEM contains the private key of the leaf
// certificate. Each failure has a message of its own, so that none quotes
// the English text of crypto/tls. tls.X509KeyPair runs last and catches
// the cases that the steps before it pass, such as an unsupported public
// key algorithm.
func checkPrivateKey(certPEM, keyPEM string, leaf *x509.Certificate) error {
	block, err := privateKeyBlock(keyPEM)
	if err != nil {
		return err
	}

	key, err := parsePrivateKey(block)
	if err != nil {
		return err
	}

	if err := matchPublicKey(key, leaf); err != nil {
		return err
	}

	if _, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM)); err != nil {
		return fieldError("private_key_pem", "private_key_pem is not the key of the leaf certificate, or does not parse: %v", err)
	}
	return nil
}

// privateKeyBlock returns the first PEM block of keyPEM whose type names a
// private key.
func privateKeyBlock(keyPEM string) (*pem.Block, error) {
	rest := []byte(keyPEM)
	var others []string

	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case block.Type == "ENCRYPTED PRIVATE KEY":
			return nil, fieldError("private_key_pem", "private_key_pem is encrypted: remove its passphrase, for example with openssl pkey, and use the unencrypted key")
		case block.Type == "PRIVATE KEY" || strings.HasSuffix(block.Type, " PRIVATE KEY"):
			return block, nil
		}
		others = append(others, block.Type)
	}

	if len(others) > 0 {
		return nil, fieldError("private_key_pem", "private_key_pem contains a %q PEM block but no private key: use the key that starts with -----BEGIN PRIVATE KEY-----", others[0])
	}
	return nil, fieldError("private_key_pem", "private_key_pem contains no PEM private key: use the key that starts with -----BEGIN PRIVATE KEY-----")
}

// parsePrivateKey parses a PKCS #8, PKCS #1 or SEC 1 key, the encodings
// that crypto/tls accepts.
func parsePrivateKey(block *pem.Block) (crypto.Signer, error) {
	if key, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if signer, ok := key.(crypto.Signer); ok {
			return signer, nil
		}
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	if key, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	return nil, fieldError("private_key_pem", "private_key_pem does not parse as a PKCS #8, PKCS #1 or SEC 1 private key: export the key again in PEM")
}

// matchPublicKey checks that key is the private half of the leaf's public
// key, and names both key types when they differ. A leaf key of another
// algorithm is left to tls.X509KeyPair.
func matchPublicKey(key crypto.Signer, leaf *x509.Certificate) error {
	keyType, leafType := publicKeyType(key.Public()), publicKeyType(leaf.PublicKey)
	if leafType == "" {
		return nil
	}
	if keyType != leafType {
		return fieldError("private_key_pem", "private_key_pem is an %s key, but the leaf certificate has an %s key: use the private key that the certificate was issued for", keyType, leafType)
	}

	public, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !public.Equal(leaf.PublicKey) {
		return fieldError("private_key_pem", "private_key_pem does not match the public key of the leaf certificate: use the private key that the certificate was issued for")
	}
	return nil
}

// publicKeyType names the algorithm of a public key, or returns "" for an
// algorithm that certificate uploads do not name.
func publicKeyType(key crypto.PublicKey) string {
	switch key.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "ECDSA"
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return ""
}
