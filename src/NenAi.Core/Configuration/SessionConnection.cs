using System;

namespace NenAi.Core.Configuration
{
    /// <summary>
    /// What Connect-NenService keeps for one PowerShell session: every command of the session uses it where its own
    /// parameters say nothing, before the NEN_* environment variables. Secrets are held only as SecureStrings and
    /// handed out as copies; <see cref="Dispose"/> (Disconnect-NenService) destroys them.
    /// </summary>
    public sealed class SessionConnection : IDisposable
    {
        public SessionConnection(Uri? baseUri, SessionSecret? apiKey, SessionSecret? signingKey, SessionSecret? webhookSecret, bool allowInsecureHttp, DateTimeOffset connectedAt)
        {
            BaseUri = baseUri;
            ApiKey = apiKey;
            SigningKey = signingKey;
            WebhookSecret = webhookSecret;
            AllowInsecureHttp = allowInsecureHttp;
            ConnectedAt = connectedAt;
        }

        /// <summary>Already validated (<see cref="NenClientOptions.ValidateBaseUri"/>).</summary>
        public Uri? BaseUri { get; }
        public SessionSecret? ApiKey { get; }
        public SessionSecret? SigningKey { get; }
        public SessionSecret? WebhookSecret { get; }
        /// <summary>Plain http:// to a host other than loopback was allowed when connecting.</summary>
        public bool AllowInsecureHttp { get; }
        public DateTimeOffset ConnectedAt { get; }

        public void Dispose()
        {
            ApiKey?.Dispose();
            SigningKey?.Dispose();
            WebhookSecret?.Dispose();
        }

        public override string ToString() => $"SessionConnection(BaseUri={BaseUri?.ToString() ?? "(not set)"}, ApiKey={(ApiKey is null ? "(not set)" : "***")})";
    }
}
