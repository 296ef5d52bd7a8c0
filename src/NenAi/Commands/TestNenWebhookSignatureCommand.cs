using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using System.Text;
using NenAi.Core.Configuration;
using NenAi.Core.Signing;

namespace NenAi.Commands
{
    /// <summary>
    /// Checks a webhook's X-Hmac-Signature against the raw body with one or more secrets (key rotation).
    /// Returns $true or $false; the reason for $false is in -Verbose.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "NenWebhookSignature", DefaultParameterSetName = BySignature)]
    [OutputType(typeof(bool))]
    public sealed class TestNenWebhookSignatureCommand : PSCmdlet
    {
        private const string BySignature = "BySignature";
        private const string ByHeaders = "ByHeaders";

        /// <summary>The request body exactly as received: a string (taken as UTF-8) or, better, the raw bytes.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public object? Body { get; set; } = string.Empty;

        /// <summary>The X-Hmac-Signature header value ("sha256=" + 64 lowercase hex digits).</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = BySignature, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public string? Signature { get; set; } = string.Empty;

        /// <summary>The request headers (any dictionary); X-Hmac-Signature is found whatever its case.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByHeaders, ValueFromPipelineByPropertyName = true)]
        public IDictionary Headers { get; set; } = new Hashtable();

        /// <summary>The webhook secret(s); several are tried in turn. Falls back to NEN_WEBHOOK_SECRET.</summary>
        [Parameter]
        public SecureString[]? Secret { get; set; }

        protected override void ProcessRecord()
        {
            var secrets = new List<SecretValue>();
            try
            {
                if (Secret != null) foreach (SecureString s in Secret) secrets.Add(new SecretValue(s));
                else
                {
                    string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariables.WebhookSecret);
                    if (!string.IsNullOrEmpty(fromEnvironment)) secrets.Add(SecretValue.FromChars(fromEnvironment.AsSpan()));
                }

                byte[]? body = ReadBody(out string? bodyProblem);
                string? signature = ParameterSetName == ByHeaders ? FindHeader() : Signature;
                WebhookVerification result = bodyProblem != null
                    ? new WebhookVerification(false, bodyProblem)
                    : WebhookSignature.Verify(body, signature, secrets);
                WriteVerbose(result.Reason);
                WriteObject(result.IsValid);
            }
            finally
            {
                foreach (SecretValue s in secrets) s.Dispose();
            }
        }

        private byte[]? ReadBody(out string? problem)
        {
            problem = null;
            object? value = Body is PSObject ps ? ps.BaseObject : Body;
            switch (value)
            {
                case byte[] bytes: return bytes;
                case string text: return Encoding.UTF8.GetBytes(text);
                case null: return null;
                default:
                    problem = $"The body must be the raw string or byte[] as received, not {value.GetType().Name} (a parsed object cannot be verified).";
                    return null;
            }
        }

        private string? FindHeader()
        {
            var pairs = new List<KeyValuePair<string, string?>>();
            foreach (DictionaryEntry e in Headers)
            {
                object? v = e.Value is PSObject p ? p.BaseObject : e.Value;
                // Frameworks hand headers over as string[] (e.g. HttpListener, ASP.NET StringValues).
                string? text = v is IEnumerable list && !(v is string) ? FirstOf(list) : v?.ToString();
                pairs.Add(new KeyValuePair<string, string?>(e.Key?.ToString() ?? string.Empty, text));
            }
            return WebhookSignature.FindHeader(pairs);
        }

        private static string? FirstOf(IEnumerable list)
        {
            foreach (object? item in list) return item?.ToString();
            return null;
        }
    }
}
