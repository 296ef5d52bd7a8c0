using System;
using System.Collections.Generic;
using System.Security;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;

namespace NenAi
{
    /// <summary>
    /// The webhook secrets a command verifies with: the ones given (several during a rotation), else the session's
    /// (Connect-NenService -WebhookSecret), else NEN_WEBHOOK_SECRET: the order every cmdlet uses.
    /// </summary>
    internal static class WebhookSecrets
    {
        /// <summary>Never empty: without a secret nothing can be verified, which must not look like a forged webhook.</summary>
        public static List<SecretValue> Resolve(System.Management.Automation.SessionState state, SecureString[]? given, string parameterName)
        {
            var secrets = new List<SecretValue>();
            if (given != null)
            {
                foreach (SecureString s in given)
                {
                    if (s != null && s.Length > 0) secrets.Add(new SecretValue(s));
                }
            }
            else
            {
                SessionConnection? session = SessionConnections.Current(state);
                ConnectionSources sources = ConnectionSources.Find(session: session);
                if (ConnectionSources.Take(sources.WebhookSecret, null, session?.WebhookSecret, EnvironmentVariables.WebhookSecret) is SecretValue secret) secrets.Add(secret);
            }
            if (secrets.Count == 0)
                throw new NenException(NenErrorIds.MissingWebhookSecret, NenErrorCategory.InvalidArgument,
                    $"No webhook secret is configured: pass -{parameterName} (a SecureString or PSCredential, several during a rotation), run Connect-NenService -WebhookSecret, or set {EnvironmentVariables.WebhookSecret}.");
            return secrets;
        }
    }
}
