using System;
using System.Linq;
using System.Management.Automation;
using System.Text;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Connect-NenService keeps the credentials for the session (its runspace only): every command uses them after its
    /// own parameters and before the NEN_* variables; Get-NenConnection shows them redacted; Disconnect-NenService
    /// forgets them. Run alone: they read and set NEN_* variables.
    /// </summary>
    [Collection(ProcessEnvironment.Name)]
    public class SessionConnectionTests : HostedTest
    {
        protected override bool SessionDefaults => false;

        /// <summary>SecretManagement's Get-Secret is not installed here: a function stands in for it, as users' scripts see it.</summary>
        private const string GetSecret = @"
            function Get-Secret { param([Parameter(Mandatory)] [string] $Name, [string] $Vault)
                $global:secretCalls += ,@($Name, $Vault)
                if (-not $secrets.ContainsKey($Name)) { throw ""The secret $Name was not found."" }
                $secrets[$Name]
            }
            $global:secretCalls = @()";

        private static System.Collections.Hashtable Secrets() => new System.Collections.Hashtable
        {
            ["NenApiKey"] = PsSession.Secure(TestEmulator.ApiKey),
            ["NenSigningKey"] = new PSCredential("nen", PsSession.Secure(TestEmulator.SigningKey)),
            ["NenHook"] = PsSession.Secure(TestEmulator.WebhookSecret),
            ["PlainText"] = "not-a-secure-string",
        };

        [Fact]
        public void ConnectOnceThenABatchNeedsNoKeysAndDisconnectMakesTheNextCommandFailForWantOfAKey()
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult batch = Run(@"
                Connect-NenService -BaseUri $baseUri -ApiKey $apiKey -SigningKey $signingKey
                $rows | Start-NenRun -WorkflowId $filesWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 | Get-NenRunResult -Destination $TestDrive
                # Secure parameters travel only signed: this one is sent only if the session's signing key is used.
                [pscustomobject]@{ USER = 'jane' } | Start-NenRun -WorkflowId $secureWf -SecureParameter @{ password = $password } | Out-Null",
                ("rows", CsvRows.Numbered(2)), ("password", PsSession.Secure("correct horse battery"))).AssertClean();
            PsResult after = Run("Disconnect-NenService; $rows | Start-NenRun -BaseUri $baseUri -WorkflowId $filesWf", ("rows", CsvRows.Numbered(1)));

            Assert.Equal(6, batch.Output.Count);
            Assert.Equal(3, State.Ledger.Count);
            Assert.Equal("NenMissingApiKey,NenAi.Commands.StartNenRunCommand", after.Terminating?.FullyQualifiedErrorId);
            Assert.Contains("Connect-NenService", after.Terminating!.Exception.Message);
            Assert.Equal(3, State.Ledger.Count);
        }

        [Fact]
        public void ParametersWinOverTheSessionAndTheSessionOverTheEnvironment()
        {
            using IDisposable env = ProcessEnvironment.Scope(("NEN_BASE_URL", Emulator.BaseUri.ToString()), ("NEN_API_KEY", "wrong-key-from-the-environment"));

            PsResult r = Run(@"
                Connect-NenService -ApiKey $apiKey
                $rows | Start-NenRun -WorkflowId $echo                                  # the session's key, the environment's base URL
                # A refused key is one error for the command (-ErrorAction Stop makes it end the command).
                try { $rows | Start-NenRun -WorkflowId $echo -ApiKey $wrong -ErrorAction Stop } catch { $e1 = $_ }   # the parameter's key
                Disconnect-NenService
                try { $rows | Start-NenRun -WorkflowId $echo -ErrorAction Stop } catch { $e2 = $_ }                  # the environment's key
                [pscustomobject]@{ E1 = $e1.FullyQualifiedErrorId; E2 = $e2.FullyQualifiedErrorId }",
                ("rows", CsvRows.Numbered(1)), ("wrong", PsSession.Secure("wrong-key-as-a-parameter")));

            PSObject summary = r.Output.Single(o => o.BaseObject is PSCustomObject);
            Assert.Single(r.Output.Where(o => o.TypeNames[0] == "NenAi.Run"));
            Assert.Equal("NenUnauthorized,NenAi.Commands.StartNenRunCommand", PsResult.Prop(summary, "E1"));
            Assert.Equal("NenUnauthorized,NenAi.Commands.StartNenRunCommand", PsResult.Prop(summary, "E2"));
            Assert.Single(State.Ledger);
        }

        [Fact]
        public void SecretNamesAreReadOnceThroughTheSessionsGetSecretWithTheVault()
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run(GetSecret + @"
                Connect-NenService -BaseUri $baseUri -ApiKeySecretName NenApiKey -SigningKeySecretName NenSigningKey -WebhookSecretName NenHook -Vault Corp
                $rows | Start-NenRun -WorkflowId $echo | Out-Null
                [pscustomobject]@{ USER = 'jane' } | Start-NenRun -WorkflowId $secureWf -SecureParameter @{ password = $password } | Out-Null
                $global:secretCalls | ForEach-Object { $_ -join '@' }
                Get-NenConnection",
                ("rows", CsvRows.Numbered(1)), ("secrets", Secrets()), ("password", PsSession.Secure("correct horse battery"))).AssertClean();

            Assert.Equal(new[] { "NenApiKey@Corp", "NenSigningKey@Corp", "NenHook@Corp" }, r.BaseOutput.OfType<string>());
            Assert.Equal(2, State.Ledger.Count); // the second only signed, with the signing key read from the vault
            PSObject connection = r.Output.Single(o => o.TypeNames[0] == "NenAi.Connection");
            Assert.Equal("Session (Connect-NenService -ApiKeySecretName 'NenApiKey' -Vault 'Corp')", PsResult.Prop(connection, "ApiKeySource"));
            Assert.Equal("Session (Connect-NenService -WebhookSecretName 'NenHook' -Vault 'Corp')", PsResult.Prop(connection, "WebhookSecretSource"));
        }

        [Theory]
        [InlineData("Connect-NenService -ApiKeySecretName Missing", "NenSecretUnavailable", ErrorCategory.ObjectNotFound, "The secret Missing was not found.")]
        [InlineData("Connect-NenService -ApiKeySecretName PlainText", "NenSecretUnavailable", ErrorCategory.InvalidData, "not plain text")]
        [InlineData("Connect-NenService -ApiKey $apiKey -ApiKeySecretName NenApiKey", "NenInvalidConnectionSettings", ErrorCategory.InvalidArgument, "Give -ApiKey or -ApiKeySecretName, not both.")]
        [InlineData("Connect-NenService", "NenInvalidConnectionSettings", ErrorCategory.InvalidArgument, "needs something to keep")]
        [InlineData("Connect-NenService -BaseUri 'http://nen.example.com'", "NenInsecureBaseUri", ErrorCategory.SecurityError, "Refusing plain http://")]
        [InlineData("Connect-NenService -BaseUri 'https://user:pw@nen.example.com'", "NenInvalidBaseUri", ErrorCategory.InvalidArgument, "user information")]
        public void ABadConnectIsOneErrorAndKeepsTheEarlierConnection(string connect, string id, ErrorCategory category, string message)
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run(GetSecret + "\nConnect-NenService -BaseUri $baseUri -ApiKey $apiKey\n" + connect, ("secrets", Secrets()));
            PsResult still = Run("Get-NenConnection").AssertClean();

            Assert.Equal($"{id},NenAi.Commands.ConnectNenServiceCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(category, r.Terminating!.CategoryInfo.Category);
            Assert.Contains(message, r.Terminating.Exception.Message);
            Assert.Equal("Session (Connect-NenService -ApiKey)", PsResult.Prop(still.Output.Single(), "ApiKeySource"));
            Assert.DoesNotContain("pw", r.AllText().Replace("pwsh", string.Empty).Replace("password", string.Empty));
        }

        [Fact]
        public void WithoutGetSecretTheErrorSaysToInstallSecretManagement()
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run("Connect-NenService -ApiKeySecretName NenApiKey");

            Assert.Equal("NenSecretUnavailable,NenAi.Commands.ConnectNenServiceCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, r.Terminating!.CategoryInfo.Category);
            Assert.Contains("Microsoft.PowerShell.SecretManagement", r.Terminating.Exception.Message);
        }

        [Fact]
        public void GetNenConnectionShowsWhereEachSettingComesFromAndNoSecret()
        {
            using IDisposable env = ProcessEnvironment.Scope(("NEN_SIGNING_KEY", "canary-env-signing-61f0"));

            PsResult before = Run("Get-NenConnection").AssertClean();
            PsResult connected = Run("Connect-NenService -ApiKey $key -WebhookSecret $hook -PassThru; Get-NenConnection | Format-List | Out-String",
                ("key", PsSession.Secure("canary-session-key-0c2a")), ("hook", PsSession.Secure("canary-session-hook-9e41"))).AssertClean();

            PSObject nothing = before.Output.Single();
            Assert.Equal("https://api.getnen.ai/", PsResult.Prop(nothing, "BaseUri"));
            Assert.Equal("Default", PsResult.Prop(nothing, "BaseUriSource"));
            Assert.Equal(("(not set)", "Not set"), ((string)PsResult.Prop(nothing, "ApiKey")!, (string)PsResult.Prop(nothing, "ApiKeySource")!));
            Assert.Equal(("(set)", "Environment (NEN_SIGNING_KEY)"), ((string)PsResult.Prop(nothing, "SigningKey")!, (string)PsResult.Prop(nothing, "SigningKeySource")!));
            Assert.Null(PsResult.Prop(nothing, "ConnectedAt"));

            PSObject passThru = connected.Output.First();
            Assert.Equal("NenAi.Connection", passThru.TypeNames[0]);
            Assert.Equal(("(set)", "Session (Connect-NenService -ApiKey)"), ((string)PsResult.Prop(passThru, "ApiKey")!, (string)PsResult.Prop(passThru, "ApiKeySource")!));
            Assert.Equal("Session (Connect-NenService -WebhookSecret)", PsResult.Prop(passThru, "WebhookSecretSource"));
            Assert.NotNull(PsResult.Prop(passThru, "ConnectedAt"));
            string shown = connected.AllText();
            Assert.Contains("ApiKeySource", shown);
            Assert.DoesNotContain("canary", shown);
            Assert.DoesNotContain("cana", shown);
        }

        [Fact]
        public void TestNenWebhookSignatureUsesTheSessionsWebhookSecret()
        {
            using IDisposable env = ProcessEnvironment.Scope();
            const string body = "{\"workflow_id\":\"w\",\"message_id\":\"m\",\"status\":\"processing\",\"expires_at\":1730319600}";
            string signature = NenAi.Core.Signing.WebhookSignature.Compute(Encoding.UTF8.GetBytes(TestEmulator.WebhookSecret), Encoding.UTF8.GetBytes(body));

            PsResult r = Run("Connect-NenService -WebhookSecret $hook; Test-NenWebhookSignature -Body $body -Signature $signature; Disconnect-NenService; Test-NenWebhookSignature -Body $body -Signature $signature",
                ("hook", PsSession.Secure(TestEmulator.WebhookSecret)), ("body", body), ("signature", signature));

            Assert.Equal(new object[] { true }, r.BaseOutput.ToArray());
            Assert.Equal("NenMissingWebhookSecret,NenAi.Commands.TestNenWebhookSignatureCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Contains("Connect-NenService -WebhookSecret", r.Terminating!.Exception.Message);
        }

        [Fact]
        public void TheConnectionBelongsToItsRunspaceNotToTheProcess()
        {
            using IDisposable env = ProcessEnvironment.Scope();
            Run("Connect-NenService -BaseUri $baseUri -ApiKey $apiKey").AssertClean();
            using PsSession other = PsSession.For(Emulator, defaults: false);

            PsResult here = Run("(Get-NenConnection).ApiKeySource").AssertClean();
            PsResult there = other.Run("(Get-NenConnection).ApiKeySource; $rows | Start-NenRun -WorkflowId $echo", ("rows", CsvRows.Numbered(1)));

            Assert.Equal("Session (Connect-NenService -ApiKey)", Assert.Single(here.BaseOutput));
            Assert.Equal("Not set", Assert.Single(there.BaseOutput));
            Assert.Equal("NenMissingApiKey,NenAi.Commands.StartNenRunCommand", there.Terminating?.FullyQualifiedErrorId);
        }

        [Fact]
        public void ConnectingAgainWithOneKeyKeepsTheBaseUrlAndTheOtherKeys()
        {
            using IDisposable env = ProcessEnvironment.Scope(("NEN_BASE_URL", "http://127.0.0.1:1/"), ("NEN_SIGNING_KEY", "wrong-signing-key-from-the-environment"));

            // A rotated API key: the base URL and signing key of the first connect stay (not the environment's).
            PsResult r = Run(@"
                Connect-NenService -BaseUri $baseUri -ApiKey $wrong -SigningKey $signingKey -WebhookSecret $signingKey
                Connect-NenService -ApiKey $apiKey -Verbose
                Get-NenConnection
                [pscustomobject]@{ USER = 'jane' } | Start-NenRun -WorkflowId $secureWf -SecureParameter @{ password = $password }",
                ("wrong", PsSession.Secure("the-old-key")), ("password", PsSession.Secure("correct horse battery"))).AssertClean();

            PSObject connection = r.Output.Single(o => o.TypeNames[0] == "NenAi.Connection");
            Assert.Equal(Emulator.BaseUri.ToString(), PsResult.Prop(connection, "BaseUri"));
            Assert.Equal("Session (Connect-NenService -BaseUri)", PsResult.Prop(connection, "BaseUriSource"));
            Assert.Equal("Session (Connect-NenService -SigningKey)", PsResult.Prop(connection, "SigningKeySource"));
            Assert.Equal("Session (Connect-NenService -WebhookSecret)", PsResult.Prop(connection, "WebhookSecretSource"));
            Assert.Single(r.Output, o => o.TypeNames[0] == "NenAi.Run");   // signed with the kept signing key, sent with the new API key
            Assert.Single(State.Ledger);
            string verbose = string.Join("\n", r.Verbose.Select(v => v.Message));
            Assert.Contains("signing key (set, kept)", verbose);
            Assert.Contains("Disconnect-NenService first starts clean", verbose);
        }

        [Fact]
        public void DisconnectFirstStartsCleanAndInsecureHttpGoesWithItsBaseUrl()
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run(@"
                Connect-NenService -BaseUri 'http://nen.internal.example' -AllowInsecureHttp -ApiKey $apiKey -WebhookSecret $apiKey
                Connect-NenService -SigningKey $signingKey
                $kept = Get-NenConnection
                try { Connect-NenService -BaseUri 'http://other.internal.example' } catch { $_.FullyQualifiedErrorId }
                Disconnect-NenService
                Connect-NenService -ApiKey $apiKey
                $clean = Get-NenConnection
                $kept; $clean").AssertClean();

            Assert.Equal("NenInsecureBaseUri,NenAi.Commands.ConnectNenServiceCommand", r.BaseOutput.OfType<string>().Single());
            PSObject kept = r.Output.Where(o => o.TypeNames[0] == "NenAi.Connection").First();
            PSObject clean = r.Output.Where(o => o.TypeNames[0] == "NenAi.Connection").Last();
            Assert.Equal(("http://nen.internal.example/", true), ((string)PsResult.Prop(kept, "BaseUri")!, (bool)PsResult.Prop(kept, "AllowInsecureHttp")!));
            Assert.Equal("Session (Connect-NenService -WebhookSecret)", PsResult.Prop(kept, "WebhookSecretSource"));
            Assert.Equal(("https://api.getnen.ai/", "Default"), ((string)PsResult.Prop(clean, "BaseUri")!, (string)PsResult.Prop(clean, "BaseUriSource")!));
            Assert.Equal(("Not set", "Not set", false), ((string)PsResult.Prop(clean, "WebhookSecretSource")!, (string)PsResult.Prop(clean, "SigningKeySource")!, (bool)PsResult.Prop(clean, "AllowInsecureHttp")!));
        }

        [Fact]
        public void APooledRunspaceReusedByForEachObjectParallelStartsWithoutTheEarlierIterationsConnection()
        {
            using IDisposable env = ProcessEnvironment.Scope();

            // -ThrottleLimit 1 hands every iteration the same pooled runspace, reset in between.
            PsResult r = Run(@"
                1..3 | ForEach-Object -ThrottleLimit 1 -Parallel {
                    Import-Module $using:manifest
                    if ($_ -eq 1) { Connect-NenService -BaseUri $using:baseUri -ApiKey $using:apiKey }
                    '{0} {1} {2}' -f $_, [runspace]::DefaultRunspace.Id, (Get-NenConnection).ApiKeySource
                }", ("manifest", PsSession.Manifest)).AssertClean();

            string[] lines = r.BaseOutput.Cast<string>().ToArray();
            Assert.Equal(3, lines.Length);
            Assert.Single(lines.Select(l => l.Split(' ')[1]).Distinct());   // one runspace served all three
            Assert.EndsWith("Session (Connect-NenService -ApiKey)", lines[0]);
            Assert.EndsWith("Not set", lines[1]);
            Assert.EndsWith("Not set", lines[2]);
        }

        [Fact]
        public void DisconnectWithoutAConnectionIsNoError()
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run("Disconnect-NenService -Verbose; Disconnect-NenService").AssertClean();

            Assert.Contains("no connection", Assert.Single(r.Verbose).Message);
        }
    }
}
