# Shared by the Pester suite: starts the emulator as a real process on a free loopback port.
function Start-TestEmulator {
    [CmdletBinding()]
    param([string] $ConfigPath)
    $root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $dll = @('Release', 'Debug') |
        ForEach-Object { Join-Path $root "src/NenAi.Emulator/bin/$_/net10.0/NenAi.Emulator.dll" } |
        Where-Object { Test-Path $_ } | Select-Object -First 1
    if (-not $dll) { throw 'The emulator is not built: run ./build.ps1 -Task Build first.' }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @($dll, '--urls', 'http://127.0.0.1:0', '--config', $ConfigPath)) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $line = $process.StandardOutput.ReadLine()
    if ($line -notmatch 'listening on (\S+)') {
        $process.Kill()
        throw "The emulator did not start: $line"
    }
    [pscustomobject]@{ Process = $process; BaseUri = $Matches[1] }
}

function Stop-TestEmulator {
    param($Emulator)
    if ($Emulator -and -not $Emulator.Process.HasExited) {
        $Emulator.Process.Kill()
        $Emulator.Process.WaitForExit(10000) | Out-Null
    }
}

function Get-EmulatorLedger {
    param([string] $BaseUri)
    Invoke-RestMethod -Uri "$BaseUri/_emulator/ledger" -Method Get
}

function ConvertTo-SecretText {
    # Test-only: SecureStrings for the canary values.
    param([string] $Text)
    $secure = [System.Security.SecureString]::new()
    foreach ($c in $Text.ToCharArray()) { $secure.AppendChar($c) }
    $secure.MakeReadOnly()
    $secure
}

Export-ModuleMember -Function Start-TestEmulator, Stop-TestEmulator, Get-EmulatorLedger, ConvertTo-SecretText
