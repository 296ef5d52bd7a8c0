using System;
using NenAi.Core.Configuration;
using NenAi.Core.Logging;

namespace NenAi
{
    /// <summary>
    /// The connection settings a command of this session would use, and where each comes from (type
    /// NenAi.Connection, written by Get-NenConnection and Connect-NenService -PassThru). Secrets are only said to be
    /// set or not: never their value, length or any part of it.
    /// </summary>
    public sealed class Connection
    {
        private const string Set = "(set)";
        private const string NotSet = "(not set)";

        private Connection(ConnectionSources sources, SessionConnection? session)
        {
            // As a command would send it: no user information, no query (a bad NEN_BASE_URL may hold a password).
            BaseUri = Uri.TryCreate(sources.BaseUrl, UriKind.Absolute, out Uri? uri) ? Redactor.Url(uri) : Redactor.Redact(sources.BaseUrl);
            BaseUriSource = Describe(sources.BaseUrlSource, "-BaseUri", EnvironmentVariables.BaseUrl);
            ApiKey = sources.ApiKey == SettingSource.NotSet ? NotSet : Set;
            ApiKeySource = Describe(sources.ApiKey, session?.ApiKey?.Origin, EnvironmentVariables.ApiKey);
            SigningKey = sources.SigningKey == SettingSource.NotSet ? NotSet : Set;
            SigningKeySource = Describe(sources.SigningKey, session?.SigningKey?.Origin, EnvironmentVariables.SigningKey);
            WebhookSecret = sources.WebhookSecret == SettingSource.NotSet ? NotSet : Set;
            WebhookSecretSource = Describe(sources.WebhookSecret, session?.WebhookSecret?.Origin, EnvironmentVariables.WebhookSecret);
            AllowInsecureHttp = session?.AllowInsecureHttp == true;
            ConnectedAt = session?.ConnectedAt;
        }

        /// <summary>What the commands of the session <paramref name="state"/> belongs to would use when given no connection parameters.</summary>
        internal static Connection OfSession(System.Management.Automation.SessionState state)
        {
            SessionConnection? session = SessionConnections.Current(state);
            return new Connection(ConnectionSources.Find(session: session), session);
        }

        public string BaseUri { get; }
        public string BaseUriSource { get; }
        /// <summary>"(set)" or "(not set)": never the key.</summary>
        public string ApiKey { get; }
        public string ApiKeySource { get; }
        public string SigningKey { get; }
        public string SigningKeySource { get; }
        public string WebhookSecret { get; }
        public string WebhookSecretSource { get; }
        /// <summary>Connect-NenService -AllowInsecureHttp: plain http:// to a host other than loopback is allowed.</summary>
        public bool AllowInsecureHttp { get; }
        /// <summary>When Connect-NenService last ran in this session; none when it has not (or Disconnect-NenService ran since).</summary>
        public DateTimeOffset? ConnectedAt { get; }

        private static string Describe(SettingSource source, string? sessionOrigin, string variable) => source switch
        {
            SettingSource.Session => $"Session (Connect-NenService {sessionOrigin})",
            SettingSource.Environment => $"Environment ({variable})",
            SettingSource.Default => "Default",
            SettingSource.Parameter => "Parameter",
            _ => "Not set",
        };

        public override string ToString() => BaseUri;
    }
}
