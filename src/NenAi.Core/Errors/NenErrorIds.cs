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
        public const string DuplicateRowKey = "NenDuplicateRowKey";
        public const string MissingColumn = "NenMissingColumn";
        public const string InvalidMessageId = "NenInvalidMessageId";
        public const string InvalidWebhookUri = "NenInvalidWebhookUri";
        public const string MissingWebhookSecret = "NenMissingWebhookSecret";
        public const string InvalidWebhookHeaders = "NenInvalidWebhookHeaders";

        // Server answers (spec section 11 error table).
        public const string InvalidRequest = "NenInvalidRequest";
        public const string Unauthorized = "NenUnauthorized";
        public const string InvalidSignature = "NenInvalidSignature";
        public const string InvalidTimestamp = "NenInvalidTimestamp";
        public const string HmacRequired = "NenHmacRequired";
        public const string Forbidden = "NenForbidden";
        public const string WorkflowNotFound = "NenWorkflowNotFound";
        public const string RunNotFound = "NenRunNotFound";
        public const string InvalidWorkflowParams = "NenInvalidWorkflowParams";
        public const string RequestTooLarge = "NenRequestTooLarge";
        public const string RateLimited = "NenRateLimited";
        public const string ServiceUnavailable = "NenServiceUnavailable";
        public const string ServerError = "NenServerError";
        public const string UnexpectedResponse = "NenUnexpectedResponse";
        public const string HttpError = "NenHttpError";

        // Transport and outcome.
        public const string NetworkError = "NenNetworkError";
        public const string Timeout = "NenTimeout";
        public const string OutcomeUnknown = "NenOutcomeUnknown";
        public const string Cancelled = "NenCancelled";

        // Runs, waiting and results.
        public const string RunFailed = "NenRunFailed";
        public const string WaitTimeout = "NenWaitTimeout";
        public const string RunNotComplete = "NenRunNotComplete";
        public const string DownloadExpired = "NenDownloadExpired";
        public const string DownloadFailed = "NenDownloadFailed";
        public const string DownloadSizeMismatch = "NenDownloadSizeMismatch";
        public const string UnsafeFileName = "NenUnsafeFileName";
        public const string UnsafeZipEntry = "NenUnsafeZipEntry";
        public const string JournalCorrupt = "NenJournalCorrupt";
        public const string PreviousOutcomeUnknown = "NenPreviousOutcomeUnknown";
        public const string JournalNotFound = "NenJournalNotFound";
        public const string RunNotStarted = "NenRunNotStarted";

        // Webhooks received.
        public const string InvalidWebhookSignature = "NenInvalidWebhookSignature";
    }
}
