"""Both languages side by side: each text is written as a ``(zh, en)`` pair at the place it is
used, so a reader sees the two versions together and neither can be forgotten."""

from __future__ import annotations

from dataclasses import dataclass

from laicai.domain.enums import Direction
from laicai.notify.message import Lang


@dataclass(frozen=True, slots=True)
class Tr:
    """``tr("开仓", "Opened")`` picks the text of the configured language."""

    lang: Lang = "zh"

    def __call__(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    @property
    def sep(self) -> str:
        """The label separator: a full-width colon in Chinese."""
        return "：" if self.lang == "zh" else ": "

    def field(self, zh: str, en: str, value: str) -> str:
        """One ``label: value`` body line."""
        return f"{self(zh, en)}{self.sep}{value}"

    def direction(self, direction: Direction | str) -> str:
        name = str(direction).upper()
        if name == Direction.SHORT:
            return self("正向（空永续 + 多现货）", "SHORT (short perp + long spot)")
        if name == Direction.LONG:
            return self("反向（多永续 + 借币空现货）", "LONG (long perp + borrowed short spot)")
        return name

    def mode(self, mode: str, dry_run: bool = False) -> str:
        names = {
            "live": self("实盘", "live"),
            "paper": self("模拟盘", "paper"),
            "backtest": self("回测", "backtest"),
        }
        text = names.get(mode, mode)
        if dry_run:
            text += self("（空跑：不下单）", " (dry run: no orders sent)")
        return text

    def leg(self, leg: str) -> str:
        return {"spot": self("现货", "spot"), "perp": self("永续", "perp")}.get(leg, leg)

    def margin_level(self, level: str) -> str:
        names = {
            "SWEEP": self("利润划转区", "sweep"),
            "OK": self("正常", "ok"),
            "TOPUP": self("需补保证金", "top-up"),
            "RESET": self("需重置", "reset"),
            "EMERGENCY": self("紧急平仓", "emergency"),
        }
        return names.get(level.upper(), level)

    def duration(self, hours: float) -> str:
        """36.5 h -> ``1天12.5小时`` / ``1d 12.5h``."""
        days, rest = divmod(max(hours, 0.0), 24.0)
        h = f"{rest:.1f}".rstrip("0").rstrip(".")
        if days:
            return self(f"{int(days)}天{h}小时", f"{int(days)}d {h}h")
        return self(f"{h}小时", f"{h}h")

    def seconds(self, seconds: float) -> str:
        s = f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}".rstrip("0").rstrip(".")
        return self(f"{s} 秒", f"{s} s")
