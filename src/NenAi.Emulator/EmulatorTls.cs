using System.Security.Cryptography.X509Certificates;

namespace NenAi.Emulator
{
    /// <summary>HTTPS for the emulator: its certificate, and whether clients must present one.</summary>
    public sealed class EmulatorTls
    {
        public EmulatorTls(X509Certificate2 certificate, bool requireClientCertificate = false)
        {
            Certificate = certificate;
            RequireClientCertificate = requireClientCertificate;
        }

        public X509Certificate2 Certificate { get; }
        public bool RequireClientCertificate { get; }
    }
}
