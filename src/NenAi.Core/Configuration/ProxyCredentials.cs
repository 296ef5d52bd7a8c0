using System;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace NenAi.Core.Configuration
{
    /// <summary>
    /// Proxy credentials that keep the password as a <see cref="SecretValue"/>. The HTTP handler lives as long as the
    /// process; it is given this object, which makes a <see cref="NetworkCredential"/> only when a proxy actually asks
    /// (407), so no password string is held for the life of the process.
    /// </summary>
    public sealed class ProxyCredentials : ICredentials, ICredentialsByHost
    {
        // Per process: a fingerprint tells two credentials apart (for the connection pool) without being reversible.
        private static readonly byte[] FingerprintKey = NewKey();
        private readonly SecretValue _password;

        public ProxyCredentials(string userName, SecretValue password, string? domain = null)
        {
            UserName = userName ?? string.Empty;
            Domain = domain;
            _password = password ?? throw new ArgumentNullException(nameof(password));
            Fingerprint = _password.UseUtf8(secret =>
            {
                byte[] user = Encoding.UTF8.GetBytes((Domain ?? string.Empty) + "\\" + UserName + "\0");
                byte[] message = new byte[user.Length + secret.Length];
                Buffer.BlockCopy(user, 0, message, 0, user.Length);
                Buffer.BlockCopy(secret, 0, message, user.Length, secret.Length);
                try
                {
                    using var hmac = new HMACSHA256(FingerprintKey);
                    return Signing.Hex.ToLower(hmac.ComputeHash(message)).Substring(0, 32);
                }
                finally { Array.Clear(message, 0, message.Length); }
            });
        }

        public string UserName { get; }
        public string? Domain { get; }
        /// <summary>Differs whenever the user or the password differs; reveals neither.</summary>
        public string Fingerprint { get; }

        public NetworkCredential GetCredential(Uri uri, string authType) => Make();

        public NetworkCredential GetCredential(string host, int port, string authenticationType) => Make();

        private NetworkCredential Make() => new NetworkCredential(UserName, _password.CopySecureString(), Domain ?? string.Empty);

        private static byte[] NewKey()
        {
            byte[] key = new byte[32];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(key);
            return key;
        }

        public override string ToString() => $"{UserName} (password hidden)";
    }
}
