package cosmos

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Names of the self-signed certificate files in the data directory.
const (
	CertFileName = "emulator-cert.pem"
	KeyFileName  = "emulator-key.pem"
)

// loadOrCreateCert returns the server's TLS configuration and a client
// configuration trusting it. It uses Options.CertFile/KeyFile when given,
// else the certificate in the data directory, else a new self-signed one
// (written into the data directory when there is one).
func loadOrCreateCert(opts Options, ip net.IP) (server, client *tls.Config, err error) {
	certPEM, keyPEM, err := certificatePEM(opts, ip)
	if err != nil {
		return nil, nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	server = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return server, client, nil
}

func certificatePEM(opts Options, ip net.IP) (certPEM, keyPEM []byte, err error) {
	if opts.CertFile != "" || opts.KeyFile != "" {
		return readPair(opts.CertFile, opts.KeyFile)
	}
	if opts.DataDir == "" {
		return selfSigned(ip)
	}
	certPath, keyPath := filepath.Join(opts.DataDir, CertFileName), filepath.Join(opts.DataDir, KeyFileName)
	if certPEM, keyPEM, err = readPair(certPath, keyPath); err == nil {
		return certPEM, keyPEM, nil
	}
	if certPEM, keyPEM, err = selfSigned(ip); err != nil {
		return nil, nil, err
	}
	err = errors.Join(os.WriteFile(certPath, certPEM, 0o644), os.WriteFile(keyPath, keyPEM, 0o600))
	if err != nil {
		return nil, nil, fmt.Errorf("write TLS certificate: %w", err)
	}
	return certPEM, keyPEM, nil
}

func readPair(certPath, keyPath string) ([]byte, []byte, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read TLS certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("read TLS key: %w", err)
	}
	return certPEM, keyPEM, nil
}

// selfSigned creates a certificate for localhost, the loopback addresses
// and ip, valid for ten years.
func selfSigned(ip net.IP) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cosmos-emulator"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	if ip != nil && !ip.IsUnspecified() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode TLS key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}
