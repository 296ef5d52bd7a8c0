using System;

namespace NenAi.Core.Configuration
{
    /// <summary>
    /// Where each connection setting of one command comes from: the first of its own parameter, the session
    /// (Connect-NenService), the NEN_* environment variable and (for the base URL) the default that has it. The one
    /// place that order is decided: <see cref="NenClientOptions.Resolve"/>, Get-NenConnection and the webhook secret
    /// of Test-NenWebhookSignature all ask here. Nothing is validated, so a bad value can still be shown.
    /// </summary>
    public sealed class ConnectionSources
    {
        private ConnectionSources(string baseUrl, SettingSource baseUrlSource, SettingSource apiKey, SettingSource signingKey, SettingSource webhookSecret)
        {
            BaseUrl = baseUrl;
            BaseUrlSource = baseUrlSource;
            ApiKey = apiKey;
            SigningKey = signingKey;
            WebhookSecret = webhookSecret;
        }

        /// <summary>The base URL as found (not validated).</summary>
        public string BaseUrl { get; }
        public SettingSource BaseUrlSource { get; }
        public SettingSource ApiKey { get; }
        public SettingSource SigningKey { get; }
        public SettingSource WebhookSecret { get; }

        /// <param name="baseUrl">The command's -BaseUri, if given.</param>
        /// <param name="apiKeyGiven">The command has its own API key (and likewise for the other secrets).</param>
        /// <param name="environment">Reads a variable; defaults to the process environment.</param>
        public static ConnectionSources Find(string? baseUrl = null, bool apiKeyGiven = false, bool signingKeyGiven = false, bool webhookSecretGiven = false,
            SessionConnection? session = null, Func<string, string?>? environment = null)
        {
            environment ??= Environment.GetEnvironmentVariable;
            string url;
            SettingSource urlSource;
            if (!string.IsNullOrWhiteSpace(baseUrl)) { url = baseUrl!; urlSource = SettingSource.Parameter; }
            else if (session?.BaseUri != null) { url = session.BaseUri.ToString(); urlSource = SettingSource.Session; }
            else if (NonEmpty(environment(EnvironmentVariables.BaseUrl)) is string fromEnvironment) { url = fromEnvironment; urlSource = SettingSource.Environment; }
            else { url = NenClientOptions.DefaultBaseUrl; urlSource = SettingSource.Default; }
            return new ConnectionSources(url.Trim(), urlSource,
                Pick(apiKeyGiven, session?.ApiKey, EnvironmentVariables.ApiKey, environment),
                Pick(signingKeyGiven, session?.SigningKey, EnvironmentVariables.SigningKey, environment),
                Pick(webhookSecretGiven, session?.WebhookSecret, EnvironmentVariables.WebhookSecret, environment));
        }

        /// <summary>
        /// The secret a source names, for the caller to own: the parameter's as given, a copy of the session's (so
        /// disposing it never touches the session), a new one from the environment variable; null when not set.
        /// </summary>
        public static SecretValue? Take(SettingSource source, SecretValue? given, SessionSecret? inSession, string variable, Func<string, string?>? environment = null)
        {
            environment ??= Environment.GetEnvironmentVariable;
            switch (source)
            {
                case SettingSource.Parameter: return given;
                case SettingSource.Session: return inSession?.Copy();
                case SettingSource.Environment:
                    string? value = NonEmpty(environment(variable));
                    return value is null ? null : SecretValue.FromChars(value.AsSpan());
                default: return null;
            }
        }

        private static SettingSource Pick(bool given, SessionSecret? inSession, string variable, Func<string, string?> environment)
        {
            if (given) return SettingSource.Parameter;
            if (inSession != null) return SettingSource.Session;
            return NonEmpty(environment(variable)) != null ? SettingSource.Environment : SettingSource.NotSet;
        }

        private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
