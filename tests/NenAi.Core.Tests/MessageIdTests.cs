using System;
using System.Threading.Tasks;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// The one rule for message ids (MessageIds), which the client's status query, the pipeline inputs and the webhook
    /// receiver all apply: ids that would change a request's path, or are empty, unprintable or far too long, are refused
    /// before any request; anything else goes, since the spec shows UUIDs only in examples.
    /// </summary>
    public class MessageIdTests
    {
        [Theory]
        [InlineData("not-a-guid")]
        [InlineData("eeeeeeee-0000-4000-8000-000000000003")]
        [InlineData("run_01HZX3K8 with a space")]
        [InlineData("%2e%2e")] // escaped on the way out: it stays one path segment
        public void AnIdThatStaysOnePathSegmentIsAccepted(string id)
        {
            Assert.Equal(id, MessageIds.Check("  " + id + " "));
            Assert.Equal(id, MessageIds.Check(new string('x', MessageIds.MaxLength - id.Length) + id).Substring(MessageIds.MaxLength - id.Length));
        }

        [Theory]
        [InlineData("", "empty")]
        [InlineData("   ", "empty")]
        [InlineData("..", "change the request's path")]
        [InlineData("../../../etc/passwd", "change the request's path")]
        [InlineData("a?b", "change the request's path")]
        [InlineData("a#b", "change the request's path")]
        [InlineData("a\\b", "change the request's path")]
        [InlineData("a\u0001b", "control characters")]
        public void AnIdThatIsNoIdIsNenInvalidMessageIdNamingWhy(string id, string why)
        {
            NenException ex = Assert.Throws<NenException>(() => MessageIds.Check(id));
            Assert.Equal((NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument), (ex.ErrorId, ex.Category));
            Assert.Contains(why, ex.Message);
            Assert.False(ex.Message.Contains('\u0001'), "The message holds no control character.");
        }

        [Fact]
        public void ATooLongIdIsRefusedWithoutBeingShown()
        {
            string id = new string('7', 100_000);

            NenException ex = Assert.Throws<NenException>(() => MessageIds.Check(id));
            NenException justOver = Assert.Throws<NenException>(() => MessageIds.Check(new string('7', MessageIds.MaxLength + 1)));

            Assert.Equal(NenErrorIds.InvalidMessageId, ex.ErrorId);
            Assert.Contains("100000 characters", ex.Message);
            Assert.True(ex.Message.Length < 200, ex.Message);
            Assert.Contains($"{MessageIds.MaxLength + 1} characters", justOver.Message);
        }

        [Fact]
        public async Task TheClientSendsNoRequestForAnIdTheRuleRefusesAndSendsOneForAnyOther()
        {
            await using var emu = await TestEmulator.StartAsync();
            NenApiClient client = emu.Client();

            foreach (string bad in new[] { "../runs", new string('a', 5000), "a/b" })
                Assert.Equal(NenErrorIds.InvalidMessageId, (await Assert.ThrowsAsync<NenException>(() => client.GetRunAsync(bad))).ErrorId);
            Assert.Equal(0, emu.State.GetRuns);

            NenException notFound = await Assert.ThrowsAsync<NenException>(() => client.GetRunAsync("not-a-guid"));
            Assert.Equal(NenErrorIds.RunNotFound, notFound.ErrorId);
            Assert.Equal(1, emu.State.GetRuns);
        }
    }
}
