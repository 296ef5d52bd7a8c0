using System;
using System.Linq;
using System.Text;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>Test-NenWebhookSignature against the spec's test vector (§6.4).</summary>
    public class WebhookSignatureTests : HostedTest
    {
        internal const string Body = "{\"workflow_id\":\"w\",\"message_id\":\"m\",\"status\":\"processing\",\"expires_at\":1730319600}";
        internal const string Signature = "sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb";

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

        [Fact]
        public void EverySecretOfARotationIsTried()
        {
            PsResult r = Test("-Body $body -Signature $signature -Secret $old, $secret -Verbose", ("old", PsSession.Secure("whsec-old"))).AssertClean();

            Assert.Equal(true, Assert.Single(r.BaseOutput));
            Assert.Contains("#2", r.Verbose.Single().Message);
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

        [Fact]
        public void ATamperedBodyIsFalse() =>
            Assert.Equal(false, Assert.Single(Test("-Body $tampered -Signature $signature -Secret $secret", ("tampered", Body.Replace("processing", "success"))).AssertClean().BaseOutput));
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
    }
}
