namespace NenAi.Core.Configuration
{
    /// <summary>The environment variables a scheduled task can use instead of parameters.</summary>
    public static class EnvironmentVariables
    {
        public const string BaseUrl = "NEN_BASE_URL";
        public const string ApiKey = "NEN_API_KEY";
        public const string SigningKey = "NEN_SIGNING_KEY";
        public const string WebhookSecret = "NEN_WEBHOOK_SECRET";
    }
}
