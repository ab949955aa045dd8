#Requires -RunAsAdministrator
# crashbench config plan: goal bsod, Automatic memory dump
# Saves the current values of everything it changes to crashbench-saved.json next to this
# script, then applies the changes. revert.ps1 restores the saved values.
$ErrorActionPreference = 'Stop'
$saved = Join-Path $PSScriptRoot 'crashbench-saved.json'
if (Test-Path -LiteralPath $saved) {
    throw "$saved exists: run revert.ps1 first, or move the file away, so that the original values are kept."
}

$changes = @(
    # CrashDumpEnabled: selects the Automatic memory dump
    @{ Key = 'HKLM:\SYSTEM\CurrentControlSet\Control\CrashControl'; Name = 'CrashDumpEnabled'; Kind = 'DWord'; Value = 7 }
    # PagingFiles: Automatic relies on a system-managed page file on the boot volume, which grows to RAM or 32 GB after a crash
    @{ Key = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management'; Name = 'PagingFiles'; Kind = 'MultiString'; Value = @('C:\pagefile.sys 0 0', 'D:\pagefile.sys 0 0') }
)

# Save first: the keys about to be created, and every value as it is now.
$created = @()
$values = foreach ($c in $changes) {
    $p = $c.Key
    while ($p -and -not (Test-Path -LiteralPath $p)) {
        if ($created -notcontains $p) { $created += $p }
        $p = Split-Path -Path $p -Parent
    }
    $entry = [ordered]@{ Key = $c.Key; Name = $c.Name; Existed = $false; Kind = $null; Value = $null }
    $k = Get-Item -LiteralPath $c.Key -ErrorAction SilentlyContinue
    if ($k -and ($k.GetValueNames() -contains $c.Name)) {
        $entry.Existed = $true
        $entry.Kind = $k.GetValueKind($c.Name).ToString()
        $entry.Value = $k.GetValue($c.Name, $null, 'DoNotExpandEnvironmentNames')
    }
    [pscustomobject]$entry
}
[pscustomobject]@{ CreatedKeys = @($created); Values = @($values) } |
    ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $saved -Encoding UTF8
Write-Host "Saved the current values to $saved"

foreach ($key in ($created | Sort-Object -Property Length)) { New-Item -Path $key | Out-Null }
foreach ($c in $changes) {
    if ($c.Delete) {
        Remove-ItemProperty -LiteralPath $c.Key -Name $c.Name -ErrorAction SilentlyContinue
        Write-Host "$($c.Key)\$($c.Name) deleted"
        continue
    }
    New-ItemProperty -LiteralPath $c.Key -Name $c.Name -PropertyType $c.Kind -Value $c.Value -Force | Out-Null
    Write-Host "$($c.Key)\$($c.Name) = $($c.Value -join '; ')"
}
Write-Host 'Done. Restart Windows for the changes to take effect. To undo: revert.ps1'
