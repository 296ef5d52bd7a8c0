using System;
using System.Text;
using NenAi.TestSupport;
using NenAi.Core.Configuration;
using NenAi.Core.Signing;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>The spec's worked examples (§3.5, §6.4) are the test vectors.</summary>
    public class SigningTests
    {
        private const string SpecBody = "{\"workflow_id\":\"12345678-1234-1234-1234-123456789abc\",\"workflow_params\":{\"PATIENT_NAME\":\"Jane Doe\"}}";
        private const string WebhookBody = "{\"workflow_id\":\"w\",\"message_id\":\"m\",\"status\":\"processing\",\"expires_at\":1730319600}";
        private const string WebhookVector = "sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb";

        [Fact]
        public void BodyHashMatchesSpecVector()
        {
            byte[] body = Encoding.UTF8.GetBytes(SpecBody);
            Assert.Equal("c68725c5f917f85e424ecc8c0df654bc786d8e4b4b24170c8611d356c770b387", RequestSigner.BodyHash(body, body.Length));
        }

        [Fact]
        public void CanonicalRequestAndSignatureMatchSpecVector()
        {
            string canonical = RequestSigner.CanonicalRequest("post", "/runs", "1730319600", "c68725c5f917f85e424ecc8c0df654bc786d8e4b4b24170c8611d356c770b387");
            Assert.Equal("POST\n/runs\n1730319600\nc68725c5f917f85e424ecc8c0df654bc786d8e4b4b24170c8611d356c770b387", canonical);
            using SecretValue key = TestEmulator.Secret("test-signing-key");
            Assert.Equal("69a6a4f1375b0a18eed69bddbea9e5051e3594721491e3330c43cf0acfd339b2", RequestSigner.Sign(key, canonical));
        }

        [Fact]
        public void ServerSideVerifyAcceptsVectorAndRefusesAnyChange()
        {
            string canonical = "POST\n/runs\n1730319600\nc68725c5f917f85e424ecc8c0df654bc786d8e4b4b24170c8611d356c770b387";
            byte[] key = Encoding.UTF8.GetBytes("test-signing-key");
            Assert.True(RequestSigner.Verify(key, canonical, "69a6a4f1375b0a18eed69bddbea9e5051e3594721491e3330c43cf0acfd339b2"));
            Assert.False(RequestSigner.Verify(key, canonical, "69A6A4F1375B0A18EED69BDDBEA9E5051E3594721491E3330C43CF0ACFD339B2"));
            Assert.False(RequestSigner.Verify(key, canonical.Replace("1730319600", "1730319601"), "69a6a4f1375b0a18eed69bddbea9e5051e3594721491e3330c43cf0acfd339b2"));
        }

        [Fact]
        public void WebhookSignatureMatchesSpecVector()
        {
            using SecretValue secret = TestEmulator.Secret("whsec-test");
            Assert.Equal(WebhookVector, WebhookSignature.Compute(secret, Encoding.UTF8.GetBytes(WebhookBody)));
            Assert.True(WebhookSignature.Verify(Encoding.UTF8.GetBytes(WebhookBody), WebhookVector, new[] { secret }).IsValid);
        }

        [Theory]
        [InlineData("", "The signature is missing.")]
        [InlineData("21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb", "does not start with 'sha256='")]
        [InlineData("sha1=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb", "does not start with 'sha256='")]
        [InlineData("sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecg", "not hexadecimal")]
        [InlineData("SHA256=31996D5AA24B68F926846745201355FFBD33BFEF0E44E151D11BF2F2AE5C1ECB", "does not match")]
        [InlineData("sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1e", "62 hex digits")]
        [InlineData("sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb00", "66 hex digits")]
        [InlineData("sha256=31996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb", "does not match")]
        public void MalformedWebhookSignaturesAreFalseWithAReason(string signature, string reason)
        {
            using SecretValue secret = TestEmulator.Secret("whsec-test");
            WebhookVerification result = WebhookSignature.Verify(Encoding.UTF8.GetBytes(WebhookBody), signature, new[] { secret });
            Assert.False(result.IsValid);
            Assert.Contains(reason, result.Reason);
        }

        [Theory]
        [InlineData("sha256=21996D5AA24B68F926846745201355FFBD33BFEF0E44E151D11BF2F2AE5C1ECB")]
        [InlineData("SHA256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb")]
        [InlineData("Sha256=21996d5aa24B68F926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1eCB")]
        public void AnUpperCasePrefixOrUpperCaseHexDigitsVerify(string signature)
        {
            using SecretValue secret = TestEmulator.Secret("whsec-test");
            Assert.True(WebhookSignature.Verify(Encoding.UTF8.GetBytes(WebhookBody), signature, new[] { secret }).IsValid);
        }

        [Fact]
        public void EmptyTruncatedAndHugeWebhookBodiesAreFalse()
        {
            using SecretValue secret = TestEmulator.Secret("whsec-test");
            Assert.False(WebhookSignature.Verify(Array.Empty<byte>(), WebhookVector, new[] { secret }).IsValid);
            Assert.False(WebhookSignature.Verify(Encoding.UTF8.GetBytes(WebhookBody.Substring(0, 40)), WebhookVector, new[] { secret }).IsValid);
            var huge = WebhookSignature.Verify(new byte[WebhookSignature.MaxBodyBytes + 1], WebhookVector, new[] { secret });
            Assert.False(huge.IsValid);
            Assert.Contains("larger than", huge.Reason);
        }

        [Fact]
        public void RotatedSecretsAreTriedAndTheMatchingOneIsNamed()
        {
            using SecretValue old = TestEmulator.Secret("whsec-old"), current = TestEmulator.Secret("whsec-test");
            var result = WebhookSignature.Verify(Encoding.UTF8.GetBytes(WebhookBody), WebhookVector, new[] { old, current });
            Assert.True(result.IsValid);
            Assert.Equal(1, result.MatchedSecretIndex);
        }

        [Fact]
        public void HeaderLookupIgnoresCase()
        {
            var headers = new[] { new System.Collections.Generic.KeyValuePair<string, string?>("x-hmac-signature", WebhookVector) };
            Assert.Equal(WebhookVector, WebhookSignature.FindHeader(headers));
        }

        [Fact]
        public void ConstantTimeEqualsComparesWholeArrays()
        {
            Assert.True(ConstantTime.Equals(new byte[] { 1, 2, 3 }, new byte[] { 1, 2, 3 }));
            Assert.False(ConstantTime.Equals(new byte[] { 1, 2, 3 }, new byte[] { 1, 2, 4 }));
            Assert.False(ConstantTime.Equals(new byte[] { 9, 2, 3 }, new byte[] { 1, 2, 3 }));
            Assert.False(ConstantTime.Equals(new byte[] { 1, 2 }, new byte[] { 1, 2, 3 }));
        }

        [Fact]
        public void SecretBuffersAreZeroedAfterUse()
        {
            using SecretValue secret = TestEmulator.Secret("canary-zero-me");
            byte[]? seenBytes = null;
            char[]? seenChars = null;
            secret.UseUtf8(b => { seenBytes = b; return 0; });
            secret.UseChars(c => { seenChars = c; return 0; });
            Assert.NotNull(seenBytes);
            Assert.All(seenBytes!, b => Assert.Equal(0, b));
            Assert.All(seenChars!, c => Assert.Equal('\0', c));
            Assert.Equal(14, seenBytes!.Length);
        }
    }
}
