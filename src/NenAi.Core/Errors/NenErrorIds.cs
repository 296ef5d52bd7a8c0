namespace NenAi.Core.Errors
{
    /// <summary>Stable error ids: they become the FullyQualifiedErrorId prefix and never change meaning.</summary>
    public static class NenErrorIds
    {
        // Configuration and input (raised before any request).
        public const string MissingApiKey = "NenMissingApiKey";
        public const string InvalidBaseUri = "NenInvalidBaseUri";
        public const string InsecureBaseUri = "NenInsecureBaseUri";
        public const string SigningKeyRequired = "NenSigningKeyRequired";
        public const string InvalidWorkflowId = "NenInvalidWorkflowId";
        public const string InvalidParameterName = "NenInvalidParameterName";
        public const string InvalidParameterValue = "NenInvalidParameterValue";
        public const string InvalidSecureParameter = "NenInvalidSecureParameter";
        /// <summary>A -SecureParameter name is also a plain parameter (a column of the input, a -Parameter key): the plain value would be sent.</summary>
        public const string SecureParameterConflict = "NenSecureParameterConflict";
        public const string DuplicateRowKey = "NenDuplicateRowKey";
        public const string MissingColumn = "NenMissingColumn";
        public const string InvalidMessageId = "NenInvalidMessageId";
        /// <summary>-Destination or -JournalPath is not a file-system path.</summary>
        public const string InvalidPath = "NenInvalidPath";
        public const string InvalidWebhookUri = "NenInvalidWebhookUri";
        /// <summary>Contradictory proxy parameters (-NoProxy with -Proxy, or two kinds of proxy credentials).</summary>
        public const string InvalidProxySettings = "NenInvalidProxySettings";
        public const string MissingWebhookSecret = "NenMissingWebhookSecret";
        public const string InvalidWebhookHeaders = "NenInvalidWebhookHeaders";
        /// <summary>The HTTP client for this connection setup could not be built on this system (runtime, certificate).</summary>
        public const string ConnectionSetupFailed = "NenConnectionSetupFailed";
        /// <summary>Connect-NenService was given nothing to keep, or a secret both as a value and by name.</summary>
        public const string InvalidConnectionSettings = "NenInvalidConnectionSettings";
        /// <summary>A SecretManagement secret named to Connect-NenService could not be read (no Get-Secret, no such secret, not a secret string).</summary>
        public const string SecretUnavailable = "NenSecretUnavailable";

        // Server answers (spec section 11 error table).
        public const string InvalidRequest = "NenInvalidRequest";
        public const string Unauthorized = "NenUnauthorized";
        public const string InvalidSignature = "NenInvalidSignature";
        public const string InvalidTimestamp = "NenInvalidTimestamp";
        public const string HmacRequired = "NenHmacRequired";
        public const string Forbidden = "NenForbidden";
        public const string WorkflowNotFound = "NenWorkflowNotFound";
        public const string RunNotFound = "NenRunNotFound";
        /// <summary>A 404 that is not the API's own (no JSON error): the base URL, often its path, is wrong.</summary>
        public const string EndpointNotFound = "NenEndpointNotFound";
        public const string InvalidWorkflowParams = "NenInvalidWorkflowParams";
        public const string RequestTooLarge = "NenRequestTooLarge";
        public const string RateLimited = "NenRateLimited";
        public const string ServiceUnavailable = "NenServiceUnavailable";
        public const string ServerError = "NenServerError";
        /// <summary>An answer that is not the API's JSON (a captive portal's page, a proxy's, an unreadable or incomplete body).</summary>
        public const string UnexpectedResponse = "NenUnexpectedResponse";
        /// <summary>A 3xx redirect: the API never redirects, so the base URL is not its address (http for https, a proxy's login). Never followed.</summary>
        public const string Redirected = "NenRedirected";
        public const string HttpError = "NenHttpError";
        /// <summary>407: the proxy wants credentials it did not get (or refused the ones given).</summary>
        public const string ProxyAuthenticationRequired = "NenProxyAuthenticationRequired";
        /// <summary>409: the Idempotency-Key was already used with another request body.</summary>
        public const string IdempotencyKeyReused = "NenIdempotencyKeyReused";

        // Transport and outcome.
        public const string NetworkError = "NenNetworkError";
        public const string Timeout = "NenTimeout";
        public const string OutcomeUnknown = "NenOutcomeUnknown";
        /// <summary>Provably not sent: the batch stopped sending before this row's turn; a re-run sends it.</summary>
        public const string NotSent = "NenNotSent";
        /// <summary>A status lookup stopped (Ctrl+C) before it was answered.</summary>
        public const string Cancelled = "NenCancelled";

        // Runs, waiting and results.
        public const string RunFailed = "NenRunFailed";
        public const string WaitTimeout = "NenWaitTimeout";
        /// <summary>A run's status could not be read for too long (throttled or failing); the run itself is unaffected.</summary>
        public const string StatusUnavailable = "NenStatusUnavailable";
        public const string RunNotComplete = "NenRunNotComplete";
        public const string DownloadExpired = "NenDownloadExpired";
        public const string DownloadFailed = "NenDownloadFailed";
        public const string DownloadSizeMismatch = "NenDownloadSizeMismatch";
        public const string UnsafeFileName = "NenUnsafeFileName";
        public const string UnsafeZipEntry = "NenUnsafeZipEntry";
        /// <summary>A file's full path is longer than this process can write (Windows PowerShell 5.1: 259 characters).</summary>
        public const string PathTooLong = "NenPathTooLong";
        /// <summary>-Destination cannot be written (read-only, access denied, disk full, not found): no run's files can be saved there.</summary>
        public const string DestinationNotWritable = "NenDestinationNotWritable";
        /// <summary>Two results (or archive entries) of one run would be one file on Windows: they differ only in case.</summary>
        public const string ResultNameConflict = "NenResultNameConflict";
        public const string JournalCorrupt = "NenJournalCorrupt";
        /// <summary>Another batch holds the journal.</summary>
        public const string JournalInUse = "NenJournalInUse";
        /// <summary>The journal could not be written (disk full, share gone): the batch stops.</summary>
        public const string JournalWriteFailed = "NenJournalWriteFailed";
        public const string PreviousOutcomeUnknown = "NenPreviousOutcomeUnknown";
        /// <summary>The journal records the row's key as sent with other values than the row has now: it is not sent, nor given the earlier run.</summary>
        public const string RowChangedSinceSent = "NenRowChangedSinceSent";
        public const string JournalNotFound = "NenJournalNotFound";
        public const string RunNotStarted = "NenRunNotStarted";

        // Webhooks received.
        public const string InvalidWebhookSignature = "NenInvalidWebhookSignature";
        /// <summary>A -Prefix is not an http(s) listener prefix.</summary>
        public const string InvalidWebhookPrefix = "NenInvalidWebhookPrefix";
        /// <summary>The receiver could not listen on a prefix (in use, no URL reservation on Windows, a privileged port).</summary>
        public const string WebhookListenFailed = "NenWebhookListenFailed";
        /// <summary>Another receiver holds the -StatePath file.</summary>
        public const string WebhookStateInUse = "NenWebhookStateInUse";
        /// <summary>The -StatePath file could not be opened or written: the receiver stops rather than risk acting twice.</summary>
        public const string WebhookStateWriteFailed = "NenWebhookStateWriteFailed";
    }
}
