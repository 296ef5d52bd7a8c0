using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Security;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;

namespace NenAi.Commands
{
    /// <summary>
    /// Keeps the base URL and secrets for the rest of the session (this session only, in memory, secrets as
    /// SecureStrings): every NenAi command then uses them where its own parameters say nothing, before the NEN_*
    /// environment variables. Secrets come as SecureString/PSCredential, or by name from SecretManagement (the
    /// Get-Secret command found when this runs). Connecting again changes what it is given and keeps the rest, so one
    /// key can be rotated; Disconnect-NenService first starts clean.
    /// </summary>
    [Cmdlet(VerbsCommunications.Connect, "NenService")]
    [OutputType(typeof(Connection))]
    public sealed class ConnectNenServiceCommand : PSCmdlet
    {
        /// <summary>The API's base URL for the session's commands.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? BaseUri { get; set; }

        /// <summary>The API key (SecureString, PSCredential or Get-Secret output).</summary>
        [Parameter]
        [SecureStringTransformation]
        public SecureString? ApiKey { get; set; }

        /// <summary>The HMAC signing key: the session's requests are then all signed.</summary>
        [Parameter]
        [SecureStringTransformation]
        public SecureString? SigningKey { get; set; }

        /// <summary>The webhook secret Test-NenWebhookSignature checks with when it has no -Secret.</summary>
        [Parameter]
        [SecureStringTransformation]
        public SecureString? WebhookSecret { get; set; }

        /// <summary>The SecretManagement secret that holds the API key (read now with Get-Secret).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ApiKeySecretName { get; set; }

        /// <summary>The SecretManagement secret that holds the signing key.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? SigningKeySecretName { get; set; }

        /// <summary>The SecretManagement secret that holds the webhook secret.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? WebhookSecretName { get; set; }

        /// <summary>The SecretManagement vault the named secrets are in (default: Get-Secret's search of every vault).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Vault { get; set; }

        /// <summary>Allow plain http:// to a host other than loopback, for this base URL and the session's commands.</summary>
        [Parameter]
        public SwitchParameter AllowInsecureHttp { get; set; }

        /// <summary>Write the resulting connection (as Get-NenConnection shows it).</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void EndProcessing()
        {
            var taken = new List<SessionSecret>();
            SessionConnection connection;
            // What an earlier Connect-NenService of this session kept: each setting not given now stays.
            SessionConnection? earlier = SessionConnections.Current(SessionState);
            try
            {
                if (BaseUri is null && ApiKey is null && SigningKey is null && WebhookSecret is null && ApiKeySecretName is null && SigningKeySecretName is null && WebhookSecretName is null)
                    throw Invalid("Connect-NenService needs something to keep: -BaseUri, -ApiKey, -SigningKey or -WebhookSecret, or the name of a secret (-ApiKeySecretName, ...).");
                // -AllowInsecureHttp goes with the base URL it was given for: a new base URL needs it again.
                bool allowInsecure = AllowInsecureHttp.IsPresent || (BaseUri is null && earlier?.AllowInsecureHttp == true);
                Uri? baseUri = BaseUri is null ? earlier?.BaseUri : NenClientOptions.ValidateBaseUri(BaseUri.Trim(), allowInsecure);
                SessionSecret? Keep(SecureString? given, string parameter, string? secretName, string nameParameter, SessionSecret? kept)
                {
                    SessionSecret? secret = Secret(given, parameter, secretName, nameParameter) ?? kept?.Duplicate();
                    if (secret != null) taken.Add(secret);
                    return secret;
                }
                connection = new SessionConnection(baseUri,
                    Keep(ApiKey, nameof(ApiKey), ApiKeySecretName, nameof(ApiKeySecretName), earlier?.ApiKey),
                    Keep(SigningKey, nameof(SigningKey), SigningKeySecretName, nameof(SigningKeySecretName), earlier?.SigningKey),
                    Keep(WebhookSecret, nameof(WebhookSecret), WebhookSecretName, nameof(WebhookSecretName), earlier?.WebhookSecret),
                    allowInsecure, DateTimeOffset.Now);
            }
            catch (NenException ex)
            {
                foreach (SessionSecret s in taken) s.Dispose();
                // The URL as given may carry a password (user info): never as the target.
                ThrowTerminatingError(ErrorRecords.From(ex, null));
                return;
            }
            if (!SessionConnections.Set(SessionState, connection))
            {
                connection.Dispose();
                ThrowTerminatingError(ErrorRecords.From(new NenException(NenErrorIds.InvalidConnectionSettings, NenErrorCategory.InvalidOperation,
                    "This command runs outside any PowerShell session (runspace), so there is no session to keep the connection for."), null));
            }
            WriteVerbose($"Connected this session: base URL {Shown(connection.BaseUri is null ? null : Core.Logging.Redactor.Url(connection.BaseUri), BaseUri != null)}; "
                + $"API key {Shown(connection.ApiKey, ApiKey != null || ApiKeySecretName != null)}, signing key {Shown(connection.SigningKey, SigningKey != null || SigningKeySecretName != null)}, "
                + $"webhook secret {Shown(connection.WebhookSecret, WebhookSecret != null || WebhookSecretName != null)}."
                + (earlier is null ? string.Empty : " Settings not given were kept from the earlier Connect-NenService; Disconnect-NenService first starts clean."));
            if (PassThru.IsPresent) WriteObject(Connection.OfSession(SessionState));
        }

        /// <summary>"(set)", "(set, kept)", "(not set)" for a secret; a base URL as it is, with "(kept)" when it was.</summary>
        private static string Shown(object? value, bool givenNow)
        {
            if (value is null) return "(not set)";
            string kept = givenNow ? string.Empty : " (kept)";
            return value is string text ? text + kept : givenNow ? "(set)" : "(set, kept)";
        }

        /// <summary>A secret given as a value, or by the name of a SecretManagement secret; not both.</summary>
        private SessionSecret? Secret(SecureString? given, string parameter, string? secretName, string nameParameter)
        {
            if (given != null && secretName != null)
                throw Invalid($"Give -{parameter} or -{nameParameter}, not both.");
            if (given != null) return given.Length == 0 ? throw Invalid($"-{parameter} is empty.") : new SessionSecret(new SecretValue(given), "-" + parameter);
            if (secretName is null) return null;
            string origin = $"-{nameParameter} '{secretName}'" + (Vault is null ? string.Empty : $" -Vault '{Vault}'");
            return new SessionSecret(FromSecretManagement(secretName, parameter), origin);
        }

        /// <summary>
        /// Reads a secret with whatever Get-Secret the session has (SecretManagement's, once installed; a test's own
        /// function), so nothing of SecretManagement is needed at build time or to import the module.
        /// </summary>
        private SecretValue FromSecretManagement(string name, string parameter)
        {
            string where = $"the secret '{name}'" + (Vault is null ? string.Empty : $" of vault '{Vault}'");
            CommandInfo? getSecret = InvokeCommand.GetCommand("Get-Secret", CommandTypes.Function | CommandTypes.Cmdlet | CommandTypes.Alias | CommandTypes.ExternalScript);
            if (getSecret is null)
                throw new NenException(NenErrorIds.SecretUnavailable, NenErrorCategory.ObjectNotFound,
                    $"-{parameter}SecretName needs Get-Secret (Microsoft.PowerShell.SecretManagement), which this session does not have. Install it and register a vault "
                    + $"(Install-PSResource Microsoft.PowerShell.SecretManagement), or pass -{parameter} as a SecureString or PSCredential.");
            Collection<PSObject> found;
            try
            {
                ScriptBlock call = ScriptBlock.Create("param($command, $name, $vault) $parameters = @{ Name = $name; ErrorAction = 'Stop' }; if ($vault) { $parameters['Vault'] = $vault }; & $command @parameters");
                found = InvokeCommand.InvokeScript(SessionState, call, getSecret, name, Vault);
            }
            catch (RuntimeException ex)
            {
                throw new NenException(NenErrorIds.SecretUnavailable, NenErrorCategory.ObjectNotFound, $"Get-Secret could not read {where}: {ex.Message}", ex);
            }
            if (found.Count != 1 || found[0] is null)
                throw new NenException(NenErrorIds.SecretUnavailable, NenErrorCategory.ObjectNotFound, $"Get-Secret gave {found.Count} value(s) for {where}; one was expected.");
            SecureString? secure;
            try
            {
                secure = SecureStringTransformationAttribute.ToSecureString(found[0]);
            }
            catch (ArgumentTransformationMetadataException ex)
            {
                throw new NenException(NenErrorIds.SecretUnavailable, NenErrorCategory.InvalidData, $"{where} cannot be -{parameter}: {ex.Message}", ex);
            }
            if (secure is null || secure.Length == 0)
                throw new NenException(NenErrorIds.SecretUnavailable, NenErrorCategory.InvalidData, $"{where} is empty.");
            return new SecretValue(secure);
        }

        private static NenException Invalid(string message) =>
            new NenException(NenErrorIds.InvalidConnectionSettings, NenErrorCategory.InvalidArgument, message);
    }
}
