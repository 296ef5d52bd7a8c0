using System;

namespace NenAi.Core.Configuration
{
    /// <summary>
    /// What Connect-NenService keeps for one PowerShell session: every command of the session uses it where its own
    /// parameters say nothing, before the NEN_* environment variables. Secrets are held only as SecureStrings and
    /// handed out as copies; <see cref="Dispose"/> (Disconnect-NenService) destroys them.
    /// </summary>
    public sealed class SessionConnection(Uri? baseUri, SessionSecret? apiKey, SessionSecret? signingKey, SessionSecret? webhookSecret, bool allowInsecureHttp, DateTimeOffset connectedAt) : IDisposable
    {
        /// <summary>Already validated (<see cref="NenClientOptions.ValidateBaseUri"/>).</summary>
        public Uri? BaseUri { get; } = baseUri;
        public SessionSecret? ApiKey { get; } = apiKey;
        public SessionSecret? SigningKey { get; } = signingKey;
        public SessionSecret? WebhookSecret { get; } = webhookSecret;
        /// <summary>Plain http:// to a host other than loopback was allowed when connecting.</summary>
        public bool AllowInsecureHttp { get; } = allowInsecureHttp;
        public DateTimeOffset ConnectedAt { get; } = connectedAt;

        public void Dispose()
        {
            ApiKey?.Dispose();
            SigningKey?.Dispose();
            WebhookSecret?.Dispose();
        }

        public override string ToString() => $"SessionConnection(BaseUri={BaseUri?.ToString() ?? "(not set)"}, ApiKey={(ApiKey is null ? "(not set)" : "***")})";
    }
}
