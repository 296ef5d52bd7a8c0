using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using System.Text;
using System.Text.Json;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Logging;
using NenAi.Core.Signing;
using NenAi.Core.Models;

namespace NenAi.Commands
{
    /// <summary>
    /// Checks a webhook's X-Hmac-Signature against the raw body with one or more secrets (key rotation).
    /// Returns $true or $false (the reason for $false is in -Verbose); with -PassThru, the verified update as a
    /// NenAi.RunStatus, or an error when it does not verify.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "NenWebhookSignature", DefaultParameterSetName = BySignature)]
    [OutputType(typeof(bool), typeof(RunStatus))]
    public sealed class TestNenWebhookSignatureCommand : PSCmdlet, IDisposable
    {
        private const string BySignature = "BySignature";
        private const string ByHeaders = "ByHeaders";
        private readonly List<SecretValue> _secrets = new List<SecretValue>();

        /// <summary>The request body exactly as received: a string (taken as UTF-8) or, better, the raw bytes.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public object? Body { get; set; } = string.Empty;

        /// <summary>The X-Hmac-Signature header value ("sha256=" + 64 hex digits).</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = BySignature, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        [AllowNull]
        public string? Signature { get; set; } = string.Empty;

        /// <summary>The request headers as the receiver has them (dictionary, NameValueCollection, name/value pairs); X-Hmac-Signature is found whatever its case.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByHeaders, ValueFromPipelineByPropertyName = true)]
        public object? Headers { get; set; }

        /// <summary>The webhook secret(s); several are tried in turn. Falls back to the session's (Connect-NenService), then NEN_WEBHOOK_SECRET.</summary>
        [Parameter]
        [Alias("WebhookSecret")] // Receive-NenWebhook's name for it (which takes -Secret too): one name works on both
        [SecureStringTransformation]
        public SecureString[]? Secret { get; set; }

        /// <summary>Write the verified update as a NenAi.RunStatus instead of $true, and an error instead of $false.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void BeginProcessing()
        {
            try
            {
                _secrets.AddRange(WebhookSecrets.Resolve(SessionState, Secret, nameof(Secret)));
            }
            catch (NenException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex, null));
            }
        }

        protected override void ProcessRecord()
        {
            string? signature;
            try
            {
                signature = ParameterSetName == ByHeaders ? WebhookSignature.FindHeader(WebhookHeaders.Read(Headers)) : Signature;
            }
            catch (NenException ex)
            {
                // The type, never the collection: header values may be credentials.
                WriteError(ErrorRecords.From(ex, Headers is PSObject ps ? ps.BaseObject.GetType().FullName : Headers?.GetType().FullName));
                return;
            }
            byte[]? body = ReadBody(out string? bodyProblem);
            WebhookVerification result = bodyProblem != null
                ? new WebhookVerification(false, bodyProblem)
                : WebhookSignature.Verify(body, signature, _secrets);
            WriteVerbose(result.Reason);
            if (!PassThru.IsPresent)
            {
                WriteObject(result.IsValid);
                return;
            }
            if (!result.IsValid)
            {
                WriteError(ErrorRecords.From(new NenException(NenErrorIds.InvalidWebhookSignature, NenErrorCategory.SecurityError,
                    "The webhook did not verify, so it must not be acted on: " + result.Reason), RedactedBody()));
                return;
            }
            WriteUpdate(body!);
        }

        /// <summary>The verified body as the same NenAi.RunStatus Wait-NenRun writes, so it pipes into Get-NenRunResult.</summary>
        private void WriteUpdate(byte[] body)
        {
            RunSnapshot status;
            try
            {
                status = RunSnapshot.Parse(Encoding.UTF8.GetString(body), null, DateTimeOffset.UtcNow);
            }
            catch (Exception ex) when (ex is JsonException || ex is ArgumentException)
            {
                WriteError(ErrorRecords.From(new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult,
                    "The webhook is correctly signed but its body is not the JSON run status expected.", ex), RedactedBody()));
                return;
            }
            if (string.IsNullOrWhiteSpace(status.MessageId))
            {
                WriteError(ErrorRecords.From(new NenException(NenErrorIds.UnexpectedResponse, NenErrorCategory.InvalidResult,
                    "The webhook is correctly signed but its body has no message_id."), RedactedBody()));
                return;
            }
            WriteObject(new RunStatus(status, timedOut: false));
        }

        /// <summary>
        /// The body as an error's target: its text with every URL's query string (a presigned link's signature) and
        /// any signature masked, so $Error never holds a link that works. Anything else shows as its type.
        /// </summary>
        private object? RedactedBody()
        {
            object? value = Body is PSObject ps ? ps.BaseObject : Body;
            return value switch
            {
                string text => Redactor.RedactServerText(text),
                byte[] bytes => Redactor.RedactServerText(Encoding.UTF8.GetString(bytes)),
                null => null,
                _ => value.GetType().FullName,
            };
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

        public void Dispose()
        {
            foreach (SecretValue s in _secrets) s.Dispose();
            _secrets.Clear();
        }
    }
}
