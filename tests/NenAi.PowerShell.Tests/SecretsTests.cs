using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Text;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Canary secrets (API key, signing key, webhook secret, secure parameter) never appear in any of the six
    /// streams, in any ErrorRecord, in the journal or in result files; every secret shape users have is accepted.
    /// </summary>
    public class SecretsTests : HostedTest
    {
        private const string ApiKey = "canary-apikey-5a1b7e";
        private const string SigningKey = "canary-signing-9c2d41";
        private const string WebhookSecret = "canary-webhook-33ef08";
        private const string Password = "canary-password-77e0c3";
        private static readonly string[] Canaries = { ApiKey, SigningKey, WebhookSecret, Password, "canary-short" };

        protected override bool SessionDefaults => false;

        protected override void Configure(EmulatorConfig config)
        {
            config.ApiKeys.Add(new ApiKeyConfig { Name = "canary", Key = ApiKey, SigningKey = SigningKey });
            config.WebhookSecret = WebhookSecret;
            config.Workflows.Single(w => w.Id == TestEmulator.SecureWorkflow).Files.Add(new FileSpec { Name = "report.txt", Content = "run {message_id}: {params}" });
        }

        private void AssertNoCanary(string text, string where)
        {
            foreach (string canary in Canaries) Assert.False(text.Contains(canary), $"'{canary}' appeared in {where}");
        }

        [Fact]
        public void NoCanaryAppearsInAnyStreamErrorJournalOrFile()
        {
            string journal = Path.Combine(TestDrive, "batch.jsonl");
            string webhookBody = "{\"workflow_id\":\"w\",\"message_id\":\"m\",\"status\":\"success\",\"expires_at\":1730319600}";
            PsResult r = Run(@"
                $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; $InformationPreference = 'Continue'
                $common = @{ BaseUri = $baseUri; ApiKey = $canaryKey; SigningKey = $canarySigning; Verbose = $true; Debug = $true }
                $cred = [pscredential]::new('svc-nen', $password)
                $rows | Start-NenRun @common -WorkflowId $secureWf -SecureParameter @{ password = $cred } -JournalPath $journal -KeyProperty USER |
                    Wait-NenRun @common -PollIntervalSec 0.1 -TimeoutSec 60 |
                    Get-NenRunResult @common -Destination $TestDrive -Expand
                # Failures: a wrong key, a wrong signing key, a secure value the workflow refuses, a plain-text key.
                $rows | Start-NenRun @common -WorkflowId $secureWf -SecureParameter @{ password = $short }
                # A refused key ends its command with one terminating error (issue 17): caught here, checked below.
                $refusals = @()
                try { $rows | Start-NenRun @common -WorkflowId $echo -ApiKey $wrongKey } catch { $refusals += $_ }
                try { $rows | Start-NenRun @common -WorkflowId $echo -SigningKey $wrongSigning } catch { $refusals += $_ }
                try { $rows | Start-NenRun -BaseUri $baseUri -WorkflowId $echo -ApiKey $plainCanary } catch { $plainKeyError = $_ }
                Wait-NenRun @common -MessageId ([guid]::NewGuid()) -PollIntervalSec 0.1
                Get-NenRun @common -MessageId ([guid]::NewGuid())
                Get-NenRun -JournalPath $journal -Verbose | Get-NenRun @common
                Test-NenWebhookSignature -Body $body -Signature $goodSignature -Secret $hook -Verbose
                Test-NenWebhookSignature -Body $body -Signature 'sha256=00' -Secret $hook -Verbose
                Test-NenWebhookSignature -Body $body -Headers @{ 'X-Hmac-Signature' = $goodSignature.ToUpperInvariant() } -Secret ([pscredential]::new('hook', $hook)) -PassThru -Verbose
                Test-NenWebhookSignature -Body $body -Headers @{ 'X-Hmac-Signature' = 'sha256=00' } -Secret $hook -PassThru -Verbose
                # A receiver with the right secret (and a state file), one with a wrong one (all refused, polled instead).
                $rows | Start-NenRun @common -WorkflowId $echo -WebhookCallback $hookUrl |
                    Receive-NenWebhook @common -Prefix $hookUrl -WebhookSecret $hook -StatePath ([System.IO.Path]::Combine($TestDrive, 'webhooks.jsonl')) -IncludeProcessing -FallbackAfterSec 10 -TimeoutSec 60 -OutVariable received -WarningAction Continue
                $rows | Start-NenRun @common -WorkflowId $echo -WebhookCallback $hookUrl |
                    Receive-NenWebhook @common -Prefix $hookUrl -WebhookSecret ([pscredential]::new('hook', $wrongHook)) -FallbackAfterSec 1 -TimeoutSec 60 -OutVariable polled -WarningAction Continue   # -Debug alone would make its warnings prompt
                Write-Information 'end of scenario'",
                ("rows", CsvRows.Parse("USER\njane")), ("journal", journal),
                ("canaryKey", PsSession.Secure(ApiKey)), ("canarySigning", PsSession.Secure(SigningKey)),
                ("password", PsSession.Secure(Password)), ("short", PsSession.Secure("canary-short".Substring(0, 7))),
                ("wrongKey", PsSession.Secure(ApiKey + "x")), ("wrongSigning", PsSession.Secure(SigningKey + "x")),
                ("plainCanary", ApiKey), ("hook", PsSession.Secure(WebhookSecret)), ("body", webhookBody),
                ("hookUrl", NenAi.TestSupport.WebhookTraffic.Prefix(NenAi.TestSupport.WebhookTraffic.FreePort())), ("wrongHook", PsSession.Secure("wrong-" + WebhookSecret.Substring(0, 8))),
                ("goodSignature", NenAi.Core.Signing.WebhookSignature.Compute(Encoding.UTF8.GetBytes(WebhookSecret), Encoding.UTF8.GetBytes(webhookBody))));

            r.Errors.AddRange(((object[])Ps.Get("refusals")!).Select(o => o is PSObject p ? p.BaseObject : o).Cast<ErrorRecord>());
            // The scenario really ran, logged and failed where it should.
            Assert.Contains(r.Output, o => o.TypeNames[0] == "NenAi.ResultFile" && "report.txt".Equals(PsResult.Prop(o, "Name")));
            Assert.NotEmpty(r.Verbose);
            Assert.NotEmpty(r.Debug);
            Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("NenInvalidWorkflowParams"));
            Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("NenUnauthorized"));
            Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("NenInvalidSignature"));
            var plainKeyError = Assert.IsType<ErrorRecord>(Ps.Get("plainKeyError"));
            Assert.StartsWith("ParameterArgumentTransformationError", plainKeyError.FullyQualifiedErrorId);
            r.Errors.Add(plainKeyError);
            Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("NenRunNotFound"));
            Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId == "NenRunNotFound,NenAi.Commands.GetNenRunCommand");
            Assert.Contains(r.Output, o => o.TypeNames[0] == "NenAi.RunStatus" && "success".Equals(PsResult.Prop(o, "Status")) && PsResult.Prop(o, "InputObject.RowKey") is string);
            Assert.Equal(new object[] { true, false }, r.BaseOutput.OfType<bool>().Cast<object>());
            Assert.Contains(r.Output, o => o.TypeNames[0] == "NenAi.RunStatus" && "m".Equals(PsResult.Prop(o, "MessageId")));
            Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("NenInvalidWebhookSignature"));
            var received = ((System.Collections.IEnumerable)Ps.Get("received")!).Cast<object>().Concat(((System.Collections.IEnumerable)Ps.Get("polled")!).Cast<object>());
            Assert.Equal(new object?[] { "processing", "success", "success" }, received.Select(o => PsResult.Prop(o, "Status")).OrderBy(x => x));
            Assert.Contains(r.Warning, w => w.Message.Contains("refused (401)"));
            Assert.Contains(r.Warning, w => w.Message.StartsWith("No final webhook"));
            Assert.True(File.Exists(Path.Combine(TestDrive, "webhooks.jsonl")));

            AssertNoCanary(r.AllText(), "the output or a stream");
            AssertNoCanary(File.ReadAllText(journal), "the journal");
            foreach (string file in Directory.GetFiles(TestDrive, "*", SearchOption.AllDirectories))
                AssertNoCanary(File.ReadAllText(file, Encoding.Latin1), file);
            // Presigned links carry their signature in the query string: no log line or error shows it.
            string logs = string.Join("\n", r.Verbose.Select(v => v.Message).Concat(r.Debug.Select(d => d.Message)).Concat(r.Warning.Select(w => w.Message)))
                + string.Join("\n", r.AllErrors.Select(e => e.ToString() + e.Exception));
            Assert.DoesNotContain("sig=", logs);
            Assert.Contains("?***", logs);
        }

        [Fact]
        public void SecretsKeptByConnectNenServiceAppearInNoStreamVariableOrFile()
        {
            string journal = Path.Combine(TestDrive, "connected.jsonl");
            string webhookBody = "{\"workflow_id\":\"w\",\"message_id\":\"m\",\"status\":\"success\",\"expires_at\":1730319600}";
            PsResult r = Run(@"
                $VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; $InformationPreference = 'Continue'
                function Get-Secret { param([string] $Name, [string] $Vault) $secrets[$Name] }
                Connect-NenService -BaseUri $baseUri -ApiKey $canaryKey -SigningKeySecretName NenSigning -WebhookSecret ([pscredential]::new('hook', $hook)) -PassThru -Verbose -Debug
                Get-NenConnection | Format-List * | Out-String
                Get-NenConnection | Format-Table * | Out-String -Width 300
                Get-NenConnection | ConvertTo-Json
                $rows | Start-NenRun -WorkflowId $secureWf -SecureParameter @{ password = [pscredential]::new('svc', $password) } -JournalPath $journal -KeyProperty USER -Verbose -Debug |
                    Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 60 -Verbose -Debug |
                    Get-NenRunResult -Destination $TestDrive -Verbose -Debug
                try { $rows | Start-NenRun -WorkflowId $echo -ApiKey $wrongKey -Verbose -Debug } catch { Write-Error -ErrorRecord $_ }   # a refused key ends the command
                Test-NenWebhookSignature -Body $body -Signature $goodSignature -Verbose
                Get-Variable | Out-String -Width 300
                Get-ChildItem Env: | Out-String -Width 300
                Disconnect-NenService -Verbose -Debug
                $rows | Start-NenRun -WorkflowId $echo -Verbose -Debug",
                ("rows", CsvRows.Parse("USER\njane")), ("journal", journal),
                ("canaryKey", PsSession.Secure(ApiKey)), ("password", PsSession.Secure(Password)), ("wrongKey", PsSession.Secure(ApiKey + "x")),
                ("hook", PsSession.Secure(WebhookSecret)), ("body", webhookBody),
                ("secrets", new System.Collections.Hashtable { ["NenSigning"] = PsSession.Secure(SigningKey) }),
                ("goodSignature", NenAi.Core.Signing.WebhookSignature.Compute(Encoding.UTF8.GetBytes(WebhookSecret), Encoding.UTF8.GetBytes(webhookBody))));

            // The scenario really ran: connected (with the vault's signing key, or the secure row would be refused), failed where it should, then forgot.
            Assert.Contains(r.Output, o => o.TypeNames[0] == "NenAi.Connection");
            Assert.Contains(r.Output, o => o.TypeNames[0] == "NenAi.ResultFile" && "report.txt".Equals(PsResult.Prop(o, "Name")));
            Assert.Contains(r.BaseOutput, o => o is bool b && b);
            Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("NenUnauthorized"));
            Assert.NotEmpty(r.Verbose);
            Assert.NotEmpty(r.Debug);
            Assert.Equal("NenMissingApiKey,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);

            AssertNoCanary(r.AllText(), "the output, a stream or a variable");
            AssertNoCanary(File.ReadAllText(journal), "the journal");
            foreach (string file in Directory.GetFiles(TestDrive, "*", SearchOption.AllDirectories))
                AssertNoCanary(File.ReadAllText(file, Encoding.Latin1), file);
        }

        [Fact]
        public void SecureStringPSCredentialAndGetSecretOutputAreAllAccepted()
        {
            PsResult r = Run(@"
                function Get-Secret { param([string] $Name) $secrets[$Name] }   # SecretManagement hands out SecureStrings
                $cred = [pscredential]::new('svc', $password)
                $keyCred = [pscredential]::new('api', $canaryKey)
                $rows | Start-NenRun -BaseUri $baseUri -ApiKey (Get-Secret NenApiKey) -SigningKey (Get-Secret NenSigningKey) -WorkflowId $secureWf -SecureParameter @{ password = (Get-Secret Password) }
                $rows | Start-NenRun -BaseUri $baseUri -ApiKey $keyCred -SigningKey $canarySigning -WorkflowId $secureWf -SecureParameter @{ password = $cred }
                $rows | Start-NenRun -BaseUri $baseUri -ApiKey $canaryKey -SigningKey $canarySigning -WorkflowId $secureWf -SecureParameter @{ password = $password }",
                ("rows", CsvRows.Parse("USER\njane")), ("password", PsSession.Secure(Password)),
                ("canaryKey", PsSession.Secure(ApiKey)), ("canarySigning", PsSession.Secure(SigningKey)),
                ("secrets", new System.Collections.Hashtable { ["NenApiKey"] = PsSession.Secure(ApiKey), ["NenSigningKey"] = PsSession.Secure(SigningKey), ["Password"] = PsSession.Secure(Password) }))
                .AssertClean();

            Assert.Equal(3, r.Output.Count);
            Assert.Equal(3, State.Ledger.Count);
            Assert.All(State.Ledger, e => Assert.False(e.Params.ToJsonString().Contains(Password)));
        }

        [Fact]
        public void AColumnThatASecureParameterNamesTooIsOneErrorForTheCommandBeforeAnythingIsSent()
        {
            const string ColumnValue = "canary-column-4f1e2a";
            PsResult r = Run("$rows | Start-NenRun -BaseUri $baseUri -ApiKey $canaryKey -SigningKey $canarySigning -WorkflowId $secureWf -SecureParameter @{ password = $password } -Verbose",
                ("rows", CsvRows.Parse($"USER,password\njane,{ColumnValue}\njohn,{ColumnValue}\njill,{ColumnValue}")), ("password", PsSession.Secure(Password)),
                ("canaryKey", PsSession.Secure(ApiKey)), ("canarySigning", PsSession.Secure(SigningKey)));
            PsResult excluded = Run("$rows | Start-NenRun -BaseUri $baseUri -ApiKey $canaryKey -SigningKey $canarySigning -WorkflowId $secureWf -SecureParameter @{ password = $password } -ExcludeProperty password",
                ("rows", CsvRows.Parse($"USER,password\njane,{ColumnValue}")), ("password", PsSession.Secure(Password)),
                ("canaryKey", PsSession.Secure(ApiKey)), ("canarySigning", PsSession.Secure(SigningKey)));

            ErrorRecord error = r.Terminating!;
            Assert.NotNull(error);
            Assert.Empty(r.Errors); // one error for the command, not one per row
            Assert.Equal("NenSecureParameterConflict,NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
            Assert.Equal("password", error.TargetObject);
            Assert.Contains("-ExcludeProperty password", error.Exception.Message);
            Assert.Contains("No row was sent", error.Exception.Message);
            Assert.DoesNotContain(ColumnValue, r.AllText());
            AssertNoCanary(r.AllText(), "the error");
            Assert.Empty(r.Output);
            // Left out, the row goes with the secure value only.
            excluded.AssertClean();
            Assert.Equal(1, State.PostRuns);
            Assert.DoesNotContain(ColumnValue, Assert.Single(State.Ledger).Params.ToJsonString());
        }

        [Fact]
        public void InMixedInputALaterRowWithSuchAColumnIsOneErrorAndTheRowsWithoutItGo()
        {
            const string ColumnValue = "canary-column-4f1e2a";
            PsResult r = Run(@"
                @(
                    [pscustomobject]@{ USER = 'a' }
                    [pscustomobject]@{ USER = 'b'; password = $col }
                    [pscustomobject]@{ USER = 'c'; Password = $col }
                    [pscustomobject]@{ USER = 'd' }
                ) | Start-NenRun -BaseUri $baseUri -ApiKey $canaryKey -SigningKey $canarySigning -WorkflowId $secureWf -SecureParameter @{ password = $password }",
                ("col", ColumnValue), ("password", PsSession.Secure(Password)), ("canaryKey", PsSession.Secure(ApiKey)), ("canarySigning", PsSession.Secure(SigningKey)));

            Assert.Null(r.Terminating);
            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenSecureParameterConflict,NenAi.Commands.StartNenRunCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
            Assert.Equal("password", error.TargetObject);
            Assert.StartsWith("Row 2:", error.Exception.Message);
            Assert.Equal(2, r.Output.Count);
            Assert.Equal(2, State.PostRuns);
            Assert.DoesNotContain(ColumnValue, r.AllText());
            Assert.All(State.Ledger, e => Assert.DoesNotContain(ColumnValue, e.Params.ToJsonString()));
        }

        [Fact]
        public void AParameterKeyThatASecureParameterNamesTooIsRefusedBeforeAnyRowIsRead()
        {
            const string PlainValue = "canary-plain-8b3c51";
            PsResult r = Run("$rows | Start-NenRun -BaseUri $baseUri -ApiKey $canaryKey -SigningKey $canarySigning -WorkflowId $secureWf -Parameter @{ Password = $plain } -SecureParameter @{ password = $password }",
                ("rows", CsvRows.Parse("USER\njane\njohn")), ("plain", PlainValue), ("password", PsSession.Secure(Password)),
                ("canaryKey", PsSession.Secure(ApiKey)), ("canarySigning", PsSession.Secure(SigningKey)));

            Assert.Equal("NenSecureParameterConflict,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, r.Terminating!.CategoryInfo.Category);
            Assert.Equal("password", r.Terminating.TargetObject);
            Assert.Contains("-Parameter and -SecureParameter both name 'password'", r.Terminating.Exception.Message);
            Assert.Empty(r.Errors);
            Assert.DoesNotContain(PlainValue, r.AllText());
            AssertNoCanary(r.AllText(), "the error");
            Assert.Equal(0, State.PostRuns);
        }

        [Fact]
        public void APlainTextSecureParameterIsRefusedWithoutEchoingIt()
        {
            PsResult r = Run("$rows | Start-NenRun -BaseUri $baseUri -ApiKey $canaryKey -SigningKey $canarySigning -WorkflowId $secureWf -SecureParameter @{ password = $plain }",
                ("rows", CsvRows.Parse("USER\njane")), ("plain", Password), ("canaryKey", PsSession.Secure(ApiKey)), ("canarySigning", PsSession.Secure(SigningKey)));

            Assert.Equal("NenInvalidSecureParameter,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Contains("'password'", r.Terminating!.Exception.Message);
            AssertNoCanary(r.AllText(), "the error");
            Assert.Equal(0, State.PostRuns);
        }
    }
}
