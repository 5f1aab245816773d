"""Words of a text, Chinese or English: what similar tickets, knowledge search and the
report's recurring problems count. The index's search stays a substring search (trigrams);
this is for ranking and counting, where 打印机 and 卡纸 mean something and 印机 does not.

Chinese has no spaces between words, so a segmenter finds them: jieba's dictionary and
model, through rjieba (jieba-rs), which gives jieba's cuts but loads in a tenth of the time
(~0.1 s against ~0.7 s for Python's jieba, paid by each command that needs words).
"""

import re

VERSION = 1  # of how words are cut and kept: stored words are cut again when it changes

# After-sales words the general dictionary lacks or cuts apart (定影器 as 定影 + 器). A desk
# adds its own in rules.yaml (``words:``).
VOCABULARY = """
卡纸 夹纸 进纸 出纸 定影器 定影膜 硒鼓 墨盒 碳粉 漏粉 黑条 白条 重影 打印头 喷头 堵头
蓝屏 黑屏 花屏 白屏 闪屏 死机 重启 开机 关机 待机
电源灯 指示灯 充电器 适配器 电池 鼓包 续航 掉电 过热 发烫 风扇 异响 噪音
显示器 屏幕 触摸屏 键盘 触控板 鼠标 主板 内存 硬盘 固态硬盘 网卡 无线网卡 蓝牙 驱动
不制冷 不制热 制冷 制热 漏水 滴水 外机 内机 压缩机 冷凝器 遥控器 氟利昂 加氟
网络 断网 掉线 连不上 无线 路由器 交换机 光猫 信号
激活 授权 许可证 账号 密码 登录 升级 固件 系统更新 报错 错误代码 故障码
退货 换货 退款 发票 保修 延保 维修 上门 寄修 送修 备件 配件 安装 调试 培训
""".split()

# Words that say nothing about what broke: function words, and the ones every after-sales
# request uses.
STOP = frozenset("""
the a an and or of to in on at for with by from into is are was were be been it its this
that these those not no does doesn did can cannot can't won't don't my our your we i you
he she they them their there please when after before again still also very just
的 了 和 与 及 或 在 是 有 没 没有 不 也 都 就 还 又 很 太 更 最 把 被 让 给 对 向 从 到 于
我 我们 你 你们 您 他 她 它 他们 这 那 这个 那个 这些 那些 一个 一下 一直 已经 还是
什么 怎么 怎么办 如何 为什么 可以 能 不能 无法 需要 想 要 请 请问 麻烦 谢谢 您好 你好
问题 出现 情况 现象 客户 用户 申请 咨询 反馈 处理 工单 时候 之后 以后 之前 然后 但是
因为 所以 如果 一次 每次 有时 经常 总是 今天 昨天 现在 刚才 上周 一台 台 个 次
""".split())

_WORD = re.compile(r"\w", re.UNICODE)
_loaded: set = set()


def words(text: str, extra: tuple = (), search: bool = False) -> list:
    """The words of ``text`` in order: segmented, English folded to lower case, without
    punctuation, stop words and lone characters. ``extra``: the desk's own words, known to
    the segmenter from then on. With ``search``, a long word comes with the words inside it
    as well (激光打印机: 激光, 打印, 打印机, 激光打印机), so that texts that name a thing
    at different lengths still share words: what ranking needs on both sides."""
    cut = _segmenter(extra, search)
    out = []
    for token in cut(text or "", True):
        token = token.strip().casefold()
        if len(token) < 2 or token in STOP or not _WORD.search(token):
            continue
        if token.isdigit():
            continue  # counts and years, not a problem
        out.append(token)
    return out


def distinct(text: str, extra: tuple = ()) -> list:
    """The words of ``text``, each once, in the order first met."""
    return list(dict.fromkeys(words(text, extra)))


def _segmenter(extra: tuple, search: bool = False):
    import rjieba

    missing = [w for w in (*VOCABULARY, *extra) if w not in _loaded]
    for word in missing:  # once per process: the dictionary is rjieba's, shared
        rjieba.add_word(word, None, None)
        _loaded.add(word)
    return rjieba.cut_for_search if search else rjieba.cut
