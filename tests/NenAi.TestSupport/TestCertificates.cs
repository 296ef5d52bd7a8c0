using System;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NenAi.TestSupport
{
    /// <summary>Self-signed certificates made on the spot: a server certificate for loopback, and client certificates.</summary>
    public static class TestCertificates
    {
        /// <summary>A server certificate for 127.0.0.1 and localhost that no client trusts.</summary>
        public static X509Certificate2 Server() => Create("CN=NenAi test server", server: true);

        /// <summary>A client certificate (with its private key) for TLS client authentication.</summary>
        public static X509Certificate2 Client(string subject = "CN=NenAi test client") => Create(subject, server: false);

        private static X509Certificate2 Create(string subject, bool server)
        {
            using RSA key = RSA.Create(2048);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
                new OidCollection { new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2") }, critical: false));
            if (server)
            {
                var names = new SubjectAlternativeNameBuilder();
                names.AddIpAddress(IPAddress.Loopback);
                names.AddDnsName("localhost");
                request.CertificateExtensions.Add(names.Build());
            }
            using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            // Through PKCS#12 so the private key is usable by SslStream on every platform.
            return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pfx), null);
        }
    }
}
