//! Deterministic sample turns for benchmarks and demos (no real chats are copied into the repo).

/// Agent turns in the style of an e-commerce / telecom / wealth-management contact centre, about one in
/// eight carrying a violation, mixed deterministically by `seed`.
pub fn generated_turns(n: usize, seed: u64) -> Vec<String> {
    const CLEAN: &[&str] = &[
        "您好，很高兴为您服务，请问有什么可以帮您？",
        "亲爱的，您的订单已经为您申请退款了，预计1-3个工作日原路退回哦",
        "非常抱歉给您带来不便，我理解您的心情，这边马上为您申请上门检测",
        "请您稍等，我帮您查询一下物流信息",
        "跟您保证我们会尽快为您审核处理的，请您放心",
        "这款理财产品不保本，理财有风险，投资需谨慎",
        "麻烦您提供一下订单号，我这边为您核实",
        "截图看不清楚，麻烦您重新上传一张清晰的图片",
        "不知道您还有其他需要帮助的吗？",
        "我会全程跟进，今天下午五点前给您回电",
        "尾号0123的银行卡已经收到退款了",
        "这个商品支持7天无理由退货，需要保证附件完整哦",
    ];
    const BAD: &[&str] = &[
        "这个我不知道，你问别人吧",
        "這不是我的問題，你自己看說明書",
        "保证年化收益8%，稳赚不赔",
        "我们的产品百分之百没问题，绝对无瑕疵",
        "有本事你去投诉啊",
        "您的身份证号是11010519491231002X",
    ];
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    (0..n)
        .map(|_| {
            if next() % 8 == 0 {
                BAD[next() % BAD.len()].to_string()
            } else {
                CLEAN[next() % CLEAN.len()].to_string()
            }
        })
        .collect()
}
