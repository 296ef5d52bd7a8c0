using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>Test-NenWebhookSignature against the spec's test vector (§6.4), every header collection a receiver has, and -PassThru.</summary>
    public class WebhookSignatureTests : HostedTest
    {
        internal const string Body = "{\"workflow_id\":\"w\",\"message_id\":\"m\",\"status\":\"processing\",\"expires_at\":1730319600}";
        internal const string Signature = "sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb";
        private const string HeaderCanary = "Bearer canary-header-4411";

        private PsResult Test(string arguments, params (string, object?)[] variables) =>
            Run("Test-NenWebhookSignature " + arguments, variables.Concat(new (string, object?)[] { ("body", Body), ("signature", Signature), ("secret", PsSession.Secure("whsec-test")) }).ToArray());

        [Fact]
        public void TheSpecsTestVectorVerifies() =>
            Assert.Equal(true, Assert.Single(Test("-Body $body -Signature $signature -Secret $secret").AssertClean().BaseOutput));

        [Fact]
        public void RawBytesAndAHeaderDictionaryInAnyCaseVerify()
        {
            PsResult r = Test("-Body $bytes -Headers @{ 'x-hmac-signature' = $signature } -Secret $secret", ("bytes", Encoding.UTF8.GetBytes(Body))).AssertClean();

            Assert.Equal(true, Assert.Single(r.BaseOutput));
        }

        /// <summary>Header collections as receivers hold them, each with the signature under a differently cased name.</summary>
        public static TheoryData<string> HeaderShapes() => new(HeaderCollections.Keys);

        private static readonly Dictionary<string, Func<object>> HeaderCollections = new()
        {
            ["WebHeaderCollection (HttpListener)"] = () => new WebHeaderCollection { { "Content-Type", "application/json" }, { "Authorization", HeaderCanary }, { "x-HMAC-signature", Signature } },
            ["NameValueCollection"] = () => new NameValueCollection { { "X-HMAC-SIGNATURE", Signature }, { "Authorization", HeaderCanary } },
            ["Dictionary of string[] (ASP.NET style)"] = () => new Dictionary<string, string[]> { ["x-hmac-signature"] = new[] { Signature }, ["Accept"] = new[] { "a", "b" } },
            ["KeyValuePair list"] = () => new List<KeyValuePair<string, string>> { new("Authorization", HeaderCanary), new("X-Hmac-Signature", Signature) },
            ["KeyValuePair of IEnumerable (HttpClient style)"] = () => new List<KeyValuePair<string, IEnumerable<string>>> { new("X-Hmac-Signature", new[] { Signature }) },
            ["DictionaryEntry list"] = () => new[] { new DictionaryEntry("Host", "example"), new DictionaryEntry("x-hmac-SIGNATURE", Signature) },
            ["Name/Value objects"] = () => new[] { PSObjectPair("Name", "Authorization", HeaderCanary), PSObjectPair("Name", "X-Hmac-Signature", Signature) },
            ["Key/Value objects"] = () => new[] { PSObjectPair("Key", "X-Hmac-Signature", Signature) },
            ["one Name/Value object"] = () => PSObjectPair("Name", "x-hmac-signature", Signature),
            ["HttpRequestMessage headers"] = () =>
            {
                var message = new System.Net.Http.HttpRequestMessage();
                message.Headers.TryAddWithoutValidation("X-Hmac-Signature", Signature);
                return message.Headers;
            },
        };

        private static PSObject PSObjectPair(string nameProperty, string name, string value)
        {
            var pair = new PSObject();
            pair.Properties.Add(new PSNoteProperty(nameProperty, name));
            pair.Properties.Add(new PSNoteProperty("Value", value));
            return pair;
        }

        [Theory]
        [MemberData(nameof(HeaderShapes))]
        public void EveryHeaderCollectionAReceiverHasVerifiesWhateverTheHeadersCase(string shape)
        {
            PsResult r = Test("-Body $body -Headers $headers -Secret $secret", ("headers", HeaderCollections[shape]())).AssertClean();

            Assert.Equal(true, Assert.Single(r.BaseOutput));
        }

        [Fact]
        public void HeadersWithoutTheSignatureAreFalse()
        {
            PsResult r = Test("-Body $body -Headers $headers -Secret $secret -Verbose", ("headers", new WebHeaderCollection { { "Authorization", HeaderCanary } })).AssertClean();

            Assert.Equal(false, Assert.Single(r.BaseOutput));
            Assert.Contains("missing", r.Verbose.Single().Message);
        }

        public static TheoryData<string> BadHeaderShapes() => new()
        {
            "-Headers $signature",                                               // the signature itself, as a string
            "-Headers ([pscustomobject]@{ Authorization = $canary })",           // an object, not a collection
            "-Headers @([pscustomobject]@{ Name = 'Authorization'; Value = $canary }, 42)",
        };

        [Theory]
        [MemberData(nameof(BadHeaderShapes))]
        public void HeadersThatAreNoHeaderCollectionAreOneErrorThatNeverShowsAHeaderValue(string headers)
        {
            PsResult r = Test($"-Body $body {headers} -Secret $secret; 'next'", ("canary", HeaderCanary));

            Assert.Null(r.Terminating);
            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenInvalidWebhookHeaders,NenAi.Commands.TestNenWebhookSignatureCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
            Assert.Contains("-Headers", error.Exception.Message);
            Assert.Equal(new object[] { "next" }, r.BaseOutput.ToArray());
            string text = r.AllText();
            Assert.DoesNotContain("canary-header", text);
            Assert.DoesNotContain(Signature, text);
        }

        [Fact]
        public void EverySecretOfARotationIsTried()
        {
            PsResult r = Test("-Body $body -Signature $signature -Secret $old, $secret -Verbose", ("old", PsSession.Secure("whsec-old"))).AssertClean();

            Assert.Equal(true, Assert.Single(r.BaseOutput));
            Assert.Contains("#2", r.Verbose.Single().Message);
        }

        [Fact]
        public void SecretTakesPSCredentialsAloneAndMixedWithSecureStrings()
        {
            PsResult r = Test(@"-Body $body -Signature $signature -Secret ([pscredential]::new('hook', $secret))
                Test-NenWebhookSignature -Body $body -Signature $signature -Secret ([pscredential]::new('old', $old)), $secret -Verbose",
                ("old", PsSession.Secure("whsec-old"))).AssertClean();

            Assert.Equal(new object[] { true, true }, r.BaseOutput.ToArray());
            Assert.Contains("#2", r.Verbose.Last().Message);
        }

        [Fact]
        public void APlainTextSecretIsRefusedWithoutEchoingIt()
        {
            PsResult r = Test("-Body $body -Signature $signature -Secret 'whsec-test'");

            Assert.Equal("ParameterArgumentTransformationError,NenAi.Commands.TestNenWebhookSignatureCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Contains("plain text", r.Terminating!.Exception.Message);
            Assert.DoesNotContain("whsec-test", r.AllText());
            Assert.Empty(r.Output);
        }

        [Theory]
        [InlineData("sha1=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb", "sha256=")]
        [InlineData("sha256=21996d", "hex digits")]
        [InlineData("", "missing")]
        [InlineData("sha256=31996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb", "does not match")]
        public void AWrongSignatureIsFalseWithTheReasonInVerbose(string signature, string reason)
        {
            PsResult r = Test("-Body $body -Signature $wrong -Secret $secret -Verbose", ("wrong", signature)).AssertClean();

            Assert.Equal(false, Assert.Single(r.BaseOutput));
            Assert.Contains(reason, r.Verbose.Single().Message);
        }

        [Theory]
        [InlineData("SHA256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb")]
        [InlineData("sha256=21996D5AA24B68F926846745201355FFBD33BFEF0E44E151D11BF2F2AE5C1ECB")]
        public void AnUpperCasePrefixOrUpperCaseHexVerifies(string signature) =>
            Assert.Equal(true, Assert.Single(Test("-Body $body -Signature $upper -Secret $secret", ("upper", signature)).AssertClean().BaseOutput));

        [Fact]
        public void ATamperedBodyIsFalse() =>
            Assert.Equal(false, Assert.Single(Test("-Body $tampered -Signature $signature -Secret $secret", ("tampered", Body.Replace("processing", "success"))).AssertClean().BaseOutput));

        [Fact]
        public void PassThruWritesTheVerifiedUpdateAsTheRunStatusWaitNenRunWrites()
        {
            PsResult r = Test("-Body $body -Headers @{ 'X-Hmac-Signature' = $signature } -Secret $secret -PassThru").AssertClean();

            PSObject update = Assert.Single(r.Output);
            Assert.Equal("NenAi.RunStatus", update.TypeNames[0]);
            Assert.Equal("m", PsResult.Prop(update, "MessageId"));
            Assert.Equal("w", PsResult.Prop(update, "WorkflowId"));
            Assert.Equal("processing", PsResult.Prop(update, "Status"));
            Assert.Equal(false, PsResult.Prop(update, "IsTerminal"));
            Assert.Equal(false, PsResult.Prop(update, "TimedOut"));
            Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1730319600), PsResult.Prop(update, "ExpiresAt"));
            Assert.Equal(Body, PsResult.Prop(update, "Raw"));
        }

        [Fact]
        public void PassThruWritesAnErrorAndNoObjectForAWebhookThatDoesNotVerifyAndTheNextOneGoesOn()
        {
            PsResult r = Run(@"
                [pscustomobject]@{ Body = $tampered; Signature = $signature }, [pscustomobject]@{ Body = $body; Signature = $signature } |
                    Test-NenWebhookSignature -Secret $secret -PassThru",
                ("body", Body), ("tampered", Body.Replace("processing", "success")), ("signature", Signature), ("secret", PsSession.Secure("whsec-test")));

            Assert.Null(r.Terminating);
            Assert.Equal("m", PsResult.Prop(Assert.Single(r.Output), "MessageId"));
            ErrorRecord error = Assert.Single(r.Errors);
            Assert.Equal("NenInvalidWebhookSignature,NenAi.Commands.TestNenWebhookSignatureCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.SecurityError, error.CategoryInfo.Category);
            Assert.Contains("does not match", error.Exception.Message);
            Assert.Equal(Body.Replace("processing", "success"), error.TargetObject);
        }

        [Fact]
        public void PassThruRefusesASignedBodyThatIsNoRunStatus()
        {
            const string notJson = "hello";
            string signature = NenAi.Core.Signing.WebhookSignature.Compute(Encoding.UTF8.GetBytes("whsec-test"), Encoding.UTF8.GetBytes(notJson));

            PsResult r = Test("-Body $text -Signature $sig -Secret $secret -PassThru", ("text", notJson), ("sig", signature));

            Assert.Empty(r.Output);
            Assert.Equal("NenUnexpectedResponse,NenAi.Commands.TestNenWebhookSignatureCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
        }

        [Fact]
        public void AnHttpListenerReceiverVerifiesTheEmulatorsWebhooksAndPipesTheFinalOneIntoGetNenRunResult()
        {
            string prefix = $"http://127.0.0.1:{FreePort()}/hook/";

            PsResult r = Run(@"
                $listener = [System.Net.HttpListener]::new()
                $listener.Prefixes.Add($prefix)
                $listener.Start()
                try {
                    $run = $rows | Start-NenRun -WorkflowId $filesWf -WebhookCallback $prefix
                    $seen = [System.Collections.Generic.HashSet[string]]::new()
                    while ($true) {
                        $pending = $listener.GetContextAsync()
                        if (-not $pending.Wait(30000)) { throw 'no webhook arrived within 30 s' }
                        $context = $pending.Result
                        $reader = [System.IO.BinaryReader]::new($context.Request.InputStream)
                        $bytes = $reader.ReadBytes([int]$context.Request.ContentLength64)
                        $update = Test-NenWebhookSignature -Body $bytes -Headers $context.Request.Headers -Secret $hook -PassThru
                        $context.Response.StatusCode = if ($update) { 200 } else { 401 }
                        $context.Response.Close()
                        if (-not $update -or -not $seen.Add(""$($update.MessageId)/$($update.Status)"")) { continue }
                        $update
                        if ($update.IsTerminal) { $update | Get-NenRunResult -Destination $TestDrive; break }
                    }
                }
                finally { $listener.Stop() }",
                ("prefix", prefix), ("rows", CsvRows.Parse("NAME\nhooked")), ("hook", PsSession.Secure(TestEmulator.WebhookSecret))).AssertClean();

            string messageId = Assert.Single(State.Ledger).MessageId;
            var updates = r.Output.Where(o => o.TypeNames[0] == "NenAi.RunStatus").ToList();
            Assert.Equal(new[] { "processing", "success" }, updates.Select(u => (string)PsResult.Prop(u, "Status")!));
            Assert.All(updates, u => Assert.Equal(messageId, PsResult.Prop(u, "MessageId")));
            var files = r.Output.Where(o => o.TypeNames[0] == "NenAi.ResultFile").ToList();
            Assert.Equal(new[] { "assets.zip", "data.bin", "report.txt" }, files.Select(f => (string)PsResult.Prop(f, "Name")!).OrderBy(n => n));
            Assert.All(files, f => Assert.Equal(Path.Combine(TestDrive, messageId), Path.GetDirectoryName((string)PsResult.Prop(f, "FullName")!)));
            // The links came with the webhook: no status lookup was needed, and the emulator was answered 200 each time.
            Assert.Equal(0, State.GetsFor(messageId));
            Assert.True(Eventually.True(() => State.Deliveries.Count == 2, TimeSpan.FromSeconds(10)), "the emulator did not record both deliveries");
            Assert.All(State.Deliveries, d => Assert.Equal(200, d.HttpStatus));
        }

        private static int FreePort()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }
    }

    [Collection(ProcessEnvironment.Name)]
    public class WebhookSecretFromEnvironmentTests : HostedTest
    {
        [Fact]
        public void TheSecretFallsBackToNenWebhookSecret()
        {
            using IDisposable env = ProcessEnvironment.Scope(("NEN_WEBHOOK_SECRET", "whsec-test"));

            PsResult r = Run("Test-NenWebhookSignature -Body $body -Signature $signature",
                ("body", WebhookSignatureTests.Body), ("signature", WebhookSignatureTests.Signature)).AssertClean();

            Assert.Equal(true, Assert.Single(r.BaseOutput));
        }

        [Theory]
        [InlineData("Test-NenWebhookSignature -Body $body -Signature $signature")]
        [InlineData("Test-NenWebhookSignature -Body $body -Signature $signature -Secret $empty")]
        [InlineData("[pscustomobject]@{ Body = $body } | Test-NenWebhookSignature -Signature $signature -PassThru")]
        public void NoSecretIsATerminatingErrorNotFalse(string script)
        {
            using IDisposable env = ProcessEnvironment.Scope();

            PsResult r = Run(script + "; 'not reached'", ("body", WebhookSignatureTests.Body), ("signature", WebhookSignatureTests.Signature), ("empty", new System.Security.SecureString()));

            Assert.Empty(r.Output);
            Assert.Empty(r.Errors);
            Assert.Equal("NenMissingWebhookSecret,NenAi.Commands.TestNenWebhookSignatureCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, r.Terminating!.CategoryInfo.Category);
            Assert.Contains("NEN_WEBHOOK_SECRET", r.Terminating.Exception.Message);
        }
    }
}
