using System;
using System.Net;
using NenAi.Core.Errors;

namespace NenAi.Core.Configuration
{
    /// <summary>
    /// Everything a client needs to talk to Nen. Build it with <see cref="Resolve"/>, which applies "explicit value,
    /// then the session's connection, then environment variable" and validates before any request is made.
    /// </summary>
    public sealed class NenClientOptions
    {
        public const string DefaultBaseUrl = "https://api.getnen.ai";
        public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(100);
        public const int DefaultMaximumRetryCount = 5;
        public static readonly TimeSpan DefaultMaximumRetryDuration = TimeSpan.FromMinutes(2);
        public const int DefaultMaxConnectionsPerServer = 64; // the highest -ThrottleLimit

        public Uri BaseUri { get; private set; } = new Uri(DefaultBaseUrl);
        public SecretValue ApiKey { get; private set; } = null!;
        public SecretValue? SigningKey { get; private set; }
        public SecretValue? WebhookSecret { get; private set; }
        public ProxyMode ProxyMode { get; set; } = ProxyMode.System;
        public Uri? ProxyUri { get; set; }
        /// <summary>Credentials for the proxy: the explicit one, or the system proxy when there is none.</summary>
        public ProxyCredentials? ProxyCredential { get; set; }
        /// <summary>Answer the proxy's challenge with the logged-on user's credentials (integrated authentication).</summary>
        public bool ProxyUseDefaultCredentials { get; set; }
        /// <summary>Accept any server certificate (a test server, a TLS-inspecting proxy): the connection is no longer authenticated.</summary>
        public bool SkipCertificateCheck { get; set; }
        /// <summary>A client certificate for TLS client authentication.</summary>
        public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; set; }
        /// <summary>Per-request timeout (each attempt).</summary>
        public TimeSpan Timeout { get; set; } = DefaultTimeout;
        /// <summary>
        /// Retries of one request after a failure that may pass (a timeout, a reset, a 5xx to a read, no server reached),
        /// and pauses in a row whose probe found no server before a batch stops; never the 429/503 a batch waits out.
        /// </summary>
        public int MaximumRetryCount { get; set; } = DefaultMaximumRetryCount;
        /// <summary>
        /// The retry budget (-RetryBudgetSec), a time: how long a command waits out a service that refuses every request
        /// (429/503, however many pauses that takes) before it stops with one error, and how long retries may add to one
        /// request from its first failure. A Retry-After beyond it is not waited for.
        /// </summary>
        public TimeSpan MaximumRetryDuration { get; set; } = DefaultMaximumRetryDuration;
        public int MaxConnectionsPerServer { get; set; } = DefaultMaxConnectionsPerServer;
        /// <summary>Lets plain http:// reach a host other than loopback (never the default).</summary>
        public bool AllowInsecureHttp { get; private set; }
        /// <summary>Base delay of the exponential backoff when the server gives no Retry-After.</summary>
        public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

        /// <summary>
        /// Combines explicit values, the session's connection (Connect-NenService) and the NEN_* environment variables,
        /// in that order for each setting (see <see cref="ConnectionSources"/>), and validates.
        /// </summary>
        /// <param name="environment">Reads a variable; defaults to the process environment.</param>
        /// <param name="session">What Connect-NenService keeps for the calling session, if anything.</param>
        public static NenClientOptions Resolve(
            string? baseUrl = null,
            SecretValue? apiKey = null,
            SecretValue? signingKey = null,
            SecretValue? webhookSecret = null,
            bool allowInsecureHttp = false,
            bool requireApiKey = true,
            Func<string, string?>? environment = null,
            SessionConnection? session = null)
        {
            environment ??= Environment.GetEnvironmentVariable;
            ConnectionSources sources = ConnectionSources.Find(baseUrl, apiKey != null, signingKey != null, webhookSecret != null, session, environment);
            // Allowed once for the session, allowed for its commands (for its base URL, or one they give).
            allowInsecureHttp |= session?.AllowInsecureHttp == true;
            var options = new NenClientOptions { AllowInsecureHttp = allowInsecureHttp };
            options.BaseUri = ValidateBaseUri(sources.BaseUrl, allowInsecureHttp);

            options.ApiKey = ConnectionSources.Take(sources.ApiKey, apiKey, session?.ApiKey, EnvironmentVariables.ApiKey, environment)!;
            if (requireApiKey && (options.ApiKey is null || options.ApiKey.IsEmpty))
            {
                throw new NenException(NenErrorIds.MissingApiKey, NenErrorCategory.InvalidArgument,
                    $"No Nen API key is configured. Pass -ApiKey, run Connect-NenService once per session, or set the {EnvironmentVariables.ApiKey} environment variable.");
            }

            options.SigningKey = ConnectionSources.Take(sources.SigningKey, signingKey, session?.SigningKey, EnvironmentVariables.SigningKey, environment);
            options.WebhookSecret = ConnectionSources.Take(sources.WebhookSecret, webhookSecret, session?.WebhookSecret, EnvironmentVariables.WebhookSecret, environment);
            return options;
        }

        public static Uri ValidateBaseUri(string url, bool allowInsecureHttp)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) ||
                (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                throw new NenException(NenErrorIds.InvalidBaseUri, NenErrorCategory.InvalidArgument,
                    $"The base URL '{Logging.Redactor.Redact(url)}' is not an absolute http(s) URL.");
            }
            if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                throw new NenException(NenErrorIds.InvalidBaseUri, NenErrorCategory.InvalidArgument,
                    "The base URL must not carry a query string or user information.");
            }
            if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback && !allowInsecureHttp)
            {
                throw new NenException(NenErrorIds.InsecureBaseUri, NenErrorCategory.SecurityError,
                    $"Refusing plain http:// to '{uri.Host}': credentials would travel unencrypted. Use https://, a loopback address, or -AllowInsecureHttp (Connect-NenService -AllowInsecureHttp) if you must.");
            }
            // A trailing slash makes relative paths append instead of replacing the last segment.
            string text = uri.GetLeftPart(UriPartial.Path);
            return new Uri(text.EndsWith("/", StringComparison.Ordinal) ? text : text + "/");
        }

        /// <summary>
        /// An explicit proxy must be an absolute URL without user information: proxy credentials are never taken from the
        /// URL (they go in -ProxyCredential), and a password there would travel into messages wherever the URL is named.
        /// </summary>
        public static void ValidateProxyUri(Uri proxy)
        {
            if (!proxy.IsAbsoluteUri)
                throw new NenException(NenErrorIds.InvalidProxySettings, NenErrorCategory.InvalidArgument,
                    $"-Proxy '{Logging.Redactor.Redact(proxy.OriginalString)}' is not an absolute URL (http://host:port).");
            if (!string.IsNullOrEmpty(proxy.UserInfo))
                throw new NenException(NenErrorIds.InvalidProxySettings, NenErrorCategory.InvalidArgument,
                    $"-Proxy '{Logging.Redactor.Url(proxy)}' carries user information (user:password@), which is never used: pass the proxy's credentials with -ProxyCredential instead.");
        }

        public override string ToString() => $"NenClientOptions(BaseUri={BaseUri}, ApiKey=***, Signing={(SigningKey is null ? "off" : "on")})";
    }
}
