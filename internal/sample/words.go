package sample

// Vocabularies of the chat workload. They are read-only tables; nothing
// in the package writes to them.

var nickAdjectives = []string{
	"행복한", "친절한", "부지런한", "졸린", "배고픈", "수줍은", "용감한", "느긋한",
	"반짝이는", "따뜻한", "조용한", "씩씩한", "달콤한", "엉뚱한", "귀여운", "든든한",
}

var nickNouns = []string{
	"당근", "고양이", "토끼", "감자", "곰돌이", "호랑이", "펭귄", "다람쥐",
	"고구마", "수박", "오리", "여우", "부엉이", "햄스터", "강아지", "거북이",
}

var regions = []string{
	"서울 강남구", "서울 마포구", "서울 송파구", "서울 관악구", "서울 성동구",
	"경기 성남시 분당구", "경기 수원시 영통구", "경기 고양시 일산동구", "인천 연수구",
	"부산 해운대구", "대구 수성구", "대전 유성구", "광주 북구", "제주 제주시",
}

// article is an item for sale that a chat room is about.
type article struct {
	title    string
	price    int // asking price
	category string
}

var articles = []article{
	{"아이폰 13 미니 128GB 팝니다", 420000, "디지털기기"},
	{"이케아 책상 나눔해요", 0, "가구/인테리어"},
	{"닌텐도 스위치 OLED + 젤다", 310000, "게임/취미"},
	{"유아 카시트 (거의 새것)", 85000, "유아동"},
	{"캠핑 의자 2개 일괄", 30000, "스포츠/레저"},
	{"Dyson V10 무선청소기", 180000, "생활가전"},
	{"원목 식탁 4인용", 120000, "가구/인테리어"},
	{"삼천리 하이브리드 자전거", 150000, "스포츠/레저"},
	{"Kindle Paperwhite 11th gen", 95000, "디지털기기"},
	{"에어팟 프로 2세대 미개봉", 250000, "디지털기기"},
	{"해리포터 전집 (영문판)", 40000, "도서"},
	{"LG 퓨리케어 공기청정기", 130000, "생활가전"},
	{"아기 옷 일괄 (80~90 사이즈)", 20000, "유아동"},
	{"갤럭시 탭 S8 Wi-Fi 256GB", 480000, "디지털기기"},
	{"요가매트 + 폼롤러", 15000, "스포츠/레저"},
	{"몬스테라 화분 분양", 10000, "식물"},
}

var extraTags = []string{"직거래", "택배거래", "네고가능", "급처", "새상품", "나눔"}

var buyerOpeners = []string{
	"안녕하세요! 아직 판매 중인가요?",
	"안녕하세요 😊 구매하고 싶은데 가능할까요?",
	"Hi! Is this still available?",
	"혹시 오늘 거래 가능하실까요?",
	"상품 상태 궁금해서 연락드려요~",
	"나눔 신청합니다 🙏",
}

var buyerLines = []string{
	"혹시 네고 가능할까요?",
	"직거래 장소는 어디가 편하세요?",
	"사진 몇 장 더 보내주실 수 있나요? 📷",
	"내일 저녁 7시에 강남역 어떠세요?",
	"Could you do a little discount? 🙏",
	"박스랑 충전기도 같이 있나요?",
	"넵 알겠습니다!",
	"지금 출발할게요 🚗💨",
	"도착했어요! 1번 출구 앞이에요",
	"혹시 택배 거래도 되나요?\n주소는 채팅으로 드릴게요",
	"\"거의 새것\"이라고 하셨는데 사용 기간이 얼마나 되나요?",
	"ㅋㅋㅋ 네 좋아요",
	"입금했습니다 💸",
	"Thanks! I'll be there in 10 min.",
}

var sellerLines = []string{
	"네 아직 판매 중이에요!",
	"안녕하세요~ 네 가능합니다 😊",
	"네고는 조금만 가능해요 ㅠㅠ",
	"저희 집 앞 편의점에서 거래 가능해요",
	"사진 보내드릴게요!",
	"Yes, it's still available 👍",
	"박스, 충전기 다 있어요. 생활기스 조금 있습니다",
	"그 시간 괜찮아요~ 도착하시면 연락 주세요",
	"감사합니다 🥕 좋은 하루 보내세요!",
	"죄송해요, 예약 중이라 다음 분께 연락드릴게요 🙇",
	"택배비는 별도예요 (선불 4,000원)",
	"1년 정도 썼어요. 기능은 100% 정상입니다 ✅",
	"Sure — cash or transfer both OK.",
	"경로: 서울\\마포구 \\ 합정역 7번 출구\t(지하)",
}

var longLine = "거래 전에 꼭 확인해 주세요!\n" +
	"1. 직거래는 사람이 많은 곳에서 해요.\n" +
	"2. 선입금 요구는 사기일 수 있어요 ⚠️\n" +
	"3. 택배 거래 시 운송장 번호를 꼭 받아 두세요.\n" +
	"Tip: 매너온도가 높은 이웃과 거래하면 더 안전해요 🌡️ — " +
	"Have a nice trade! 👨‍👩‍👧 🇰🇷"

var systemLines = []string{
	"거래 약속 1시간 전이에요 ⏰ 장소와 시간을 확인해 주세요.",
	"상대방이 약속을 잡았어요 📅",
	"판매자가 예약 중으로 변경했어요.",
	"거래가 완료되었어요. 후기를 남겨주세요 ✍️",
	"Safety tip: never pay in advance to strangers.",
}

var stickers = []string{"carrot_wave", "carrot_thanks", "bunny_ok", "bunny_sorry", "hand_heart"}

var reactionEmoji = []string{"👍", "❤️", "😂", "🙏", "😮", "🥕"}

var memos = []string{"직거래 희망", "네고 문의 많음", "재입고 알림 요청", "차단 검토 중"}

var clients = []string{"ios", "android", "web"}

var appVersions = []string{"24.14.0", "24.15.1", "24.16.0", "25.1.2"}

var imageMimes = []string{"image/jpeg", "image/png", "image/webp", "image/heic"}

// crockford is the ULID alphabet.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// lowerAlnum is used for export data file names and user ids.
const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
